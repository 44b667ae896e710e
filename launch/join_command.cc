// `ringzero-launch join`: an actor host joins a learner host (docs/scale-out.md).
//
//   join --learner HOST:PORT --secret-file F [--actors N] [--run-dir DIR] [--host-id ID]
//        [--detach] [--<option> VALUE ...]
//
// It asks the learner host's Redis for the run's configuration (game, network, MCTS, ...),
// refuses a --game or --net.* that differs from it, claims the host id (one live join per
// id), writes RUN/config.ini with scale.learner / scale.host_id set, and supervises N actors
// and a relay on a segment of its own; no learner, no evaluator. Joining again with the same
// --run-dir (after a stop or a crash) continues with the same host id and claim.
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common/config.h"
#include "common/config_options.h"
#include "common/redis/redis_client.h"
#include "common/redis/scale_protocol.h"
#include "launch/command_support.h"
#include "launch/commands.h"
#include "launch/process_liveness.h"
#include "launch/run_dir.h"
#include "launch/scale_setup.h"
#include "launch/start_command.h"
#include "launch/supervisor.h"

namespace rz::launch {

namespace {

namespace fs = std::filesystem;

constexpr const char* kUsage =
    "ringzero-launch join --learner HOST:PORT --secret-file F [--actors N] [--run-dir DIR] "
    "[--host-id ID] [--detach] [--<option> VALUE ...]";

// Adds the host id to rz:hosts unless that would make it hold more than ARGV[2] ids.
constexpr const char* kHostRoomScript =
    "if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 1 end "
    "if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end "
    "redis.call('SADD', KEYS[1], ARGV[1]) return 1";
static_assert(kMaxActors <= static_cast<int>(redis::kMaxLanesPerHost),
              "every lane of an actor host must fit the ingest's table");

std::string default_host_id() {
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  std::string id;
  for (char c : std::string(name)) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    id += ok ? c : '-';
  }
  if (id.empty()) id = "host";
  return id.substr(0, 64);
}

// A previous join's relay or actor still alive in `dir` (its supervisor was SIGKILLed: the
// relay keeps sending what the lanes hold for up to 8 s). Returns "role pid" or "".
std::string live_child(const RunDir& dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir.pids_dir(), ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() < 5 || name.substr(name.size() - 4) != ".pid" || name == "launch.pid") continue;
    const pid_t pid = read_pid_file(entry.path().string());
    if (pid > 0 && process_alive(pid, "ringzero-"))
      return fmt::format("{} pid {}", name.substr(0, name.size() - 4), pid);
  }
  return "";
}

}  // namespace

int join_command(int argc, char** argv) {
  std::string learner, secret_file, run_dir, host_id, actors_text;
  bool detach = false;
  std::vector<std::string> rest;  // --<option> VALUE overrides
  auto value = [&](int& i, const std::string& a, const std::string& flag) -> std::string {
    if (a.rfind(flag + "=", 0) == 0) return a.substr(flag.size() + 1);
    if (i + 1 >= argc) throw UsageError(fmt::format("{} needs a value ({})", flag, kUsage));
    return argv[++i];
  };
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    auto is = [&](const std::string& flag) { return a == flag || a.rfind(flag + "=", 0) == 0; };
    if (a == "--help" || a == "-h") {
      fmt::print("usage: {}\n", kUsage);
      return 0;
    }
    if (is("--learner"))
      learner = value(i, a, "--learner");
    else if (is("--secret-file"))
      secret_file = value(i, a, "--secret-file");
    else if (is("--run-dir"))
      run_dir = value(i, a, "--run-dir");
    else if (is("--host-id"))
      host_id = value(i, a, "--host-id");
    else if (is("--actors"))
      actors_text = value(i, a, "--actors");
    else if (a == "--detach")
      detach = true;
    else if (is("--serve") || is("--resume") || is("--config"))
      throw UsageError(
          fmt::format("{} is not a join option: a join takes its configuration from "
                      "the learner host ({})",
                      a.substr(0, a.find('=')), kUsage));
    else
      rest.push_back(a);
  }
  if (learner.empty())
    throw UsageError(
        fmt::format("join needs --learner HOST:PORT, the address the learner host "
                    "was started with (start --serve HOST:PORT): {}",
                    kUsage));
  if (secret_file.empty())
    throw UsageError(
        fmt::format("join needs --secret-file F, a copy of the learner host's secret "
                    "(printed at its start): {}",
                    kUsage));
  std::string host;
  int port = 0;
  try {
    redis::parse_address(learner, &host, &port);
  } catch (const std::invalid_argument& e) {
    throw UsageError(fmt::format("--learner {}", e.what()));
  }
  const bool host_id_given = !host_id.empty();
  if (host_id.empty()) host_id = default_host_id();
  if (const std::string bad = redis::check_host_id(host_id); !bad.empty())
    throw UsageError(fmt::format("--host-id '{}': {}", host_id, bad));
  const int actors = actors_text.empty() ? 0 : parse_actor_count(actors_text);
  std::string secret;
  try {
    secret = redis::read_secret_file(secret_file);
  } catch (const std::exception& e) {
    throw UsageError(e.what());
  }
  secret_file = fs::absolute(secret_file).lexically_normal().string();

  // The learner host: reachable, our secret, our protocol, its configuration.
  std::unique_ptr<redis::RedisClient> redis;
  try {
    redis = std::make_unique<redis::RedisClient>(host, port, secret, 5000);
  } catch (const redis::RedisError& e) {
    throw UsageError(e.what());
  }
  const redis::Reply protocol = redis->command({"GET", redis::kProtocolKey});
  const redis::Reply shared = redis->command({"GET", redis::kConfigKey});
  if (!protocol.is_string() || !shared.is_string())
    throw UsageError(
        fmt::format("the learner host at {} has not published its run yet (its ingest "
                    "is starting or down): retry in a few seconds",
                    learner));
  if (protocol.str() != std::to_string(redis::kProtocolVersion))
    throw UsageError(
        fmt::format("the learner host at {} speaks scale-out protocol {} and this "
                    "build {}: run the same ringzero build on every host",
                    learner, std::string(protocol.str()), redis::kProtocolVersion));
  const RunConfig theirs = parse_config_text(std::string(shared.str()));

  if (run_dir.empty()) run_dir = new_run_dir_name("runs/join-%Y%m%d-%H%M%S");
  RunDir dir(run_dir);
  pid_t running = 0;
  if (supervisor_alive(dir, &running)) {
    throw UsageError(
        fmt::format("{} is already joined and running (supervisor pid {}); stop it "
                    "with {} stop --run-dir {}",
                    dir.path(), running, script(), shell_quote(dir.path())));
  }
  if (fs::exists(dir.config_file())) {
    const RunConfig before = load_config_file(dir.config_file());
    if (before.scale.learner.empty())
      throw UsageError(fmt::format(
          "{} holds a learner host's run, not a join: choose another --run-dir", dir.path()));
    if (!host_id_given && !before.scale.host_id.empty()) host_id = before.scale.host_id;  // rejoin
  }
  dir.create_layout();
  std::unique_ptr<FileLock> lock = take_run_lock(dir);
  // The old relay must be gone before this join takes a new epoch and segment: both relays
  // sending at once would break "every message of epoch E precedes every one of E+1".
  if (!live_child(dir).empty()) {
    fmt::print(stderr,
               "ringzero: waiting for the previous join's {} to finish sending (at most 12 s)\n",
               live_child(dir));
    if (!wait_until([&] { return live_child(dir).empty(); }, std::chrono::seconds(12)))
      throw UsageError(
          fmt::format("the previous join in {} is still running ({}): stop it with {} "
                      "stop --run-dir {} (or wait until it exits) and join again",
                      dir.path(), live_child(dir), script(), shell_quote(dir.path())));
  }
  // The learner's configuration with the user's own options on top.
  const std::string base = dir.path() + "/learner-config.ini";
  write_config_atomically(theirs, base);
  std::vector<std::string> owned = {"ringzero-launch join", "--config", base};
  for (const std::string& r : rest) owned.push_back(r);
  std::vector<const char*> args;
  for (const std::string& o : owned) args.push_back(o.c_str());
  RoleOptions role("launch", kUsage);
  RunConfig config;
  try {
    config = parse_command_line(static_cast<int>(args.size()), args.data(), role).config;
  } catch (const ConfigError& e) {
    throw UsageError(e.what());
  }
  if (config.game != theirs.game || config.net != theirs.net) {
    throw UsageError(fmt::format(
        "the learner host at {} trains {} with a {} network; this join asks for {} with a {} "
        "network: drop --game and --net.* (a join takes them from the learner host)",
        learner, theirs.game, theirs.net.shape_string(), config.game, config.net.shape_string()));
  }
  config.launch.actors = actors;
  config.launch.actors = effective_actor_count(config);
  config.shm.stats_slots = std::max(config.shm.stats_slots, stats_slots_needed(config));
  config.eval.enabled = false;  // evaluation belongs to the learner host
  config.run_dir = dir.path();
  config.shm.name = default_shm_name(dir.path());
  config.scale = ScaleConfig{};
  config.scale.learner = learner;
  config.scale.secret_file = secret_file;
  config.scale.host_id = host_id;
  validate(config);

  // One live join per host id: the relay refreshes the claim every second; it lapses 15 s
  // after its relay is gone. A rejoin from the same run directory reuses its nonce.
  const std::string nonce_file = dir.path() + "/host.nonce";
  std::string nonce;
  if (!read_text_file(nonce_file, &nonce) || nonce.empty()) {
    nonce = fmt::format("{}-{}", host_id, random_hex(16));
    write_text_atomically(nonce_file, nonce + "\n");
  }
  while (!nonce.empty() && (nonce.back() == '\n' || nonce.back() == ' ')) nonce.pop_back();
  const redis::Reply claim =
      redis->command({"EVAL", redis::kHostClaimScript, "1", redis::host_lock_key(host_id), nonce,
                      std::to_string(redis::kHostLockMs)});
  if (!claim.is_integer() || claim.integer() != 1) {
    throw UsageError(fmt::format(
        "host id '{}' is already joined to the learner host at {} by another run: give this one "
        "--host-id OTHER (a stopped join's claim lapses {} s after it stops)",
        host_id, learner, redis::kHostLockMs / 1000));
  }
  // The learner host's ingest tracks at most kMaxHosts host ids over its run: a new id
  // beyond that is refused here, before any of its records could be sent.
  const redis::Reply room = redis->command(
      {"EVAL", kHostRoomScript, "1", redis::kHostsKey, host_id, std::to_string(redis::kMaxHosts)});
  if (!room.is_integer() || room.integer() != 1) {
    redis->command({"EVAL", redis::kHostReleaseScript, "1", redis::host_lock_key(host_id), nonce});
    throw UsageError(fmt::format(
        "the learner host at {} already had {} actor hosts join its run, the most it tracks: "
        "join with the --host-id of one of them, or start a new learner run",
        learner, redis::kMaxHosts));
  }
  // This join's epoch: the next value of rz:epoch:<id>, so a host id never sends the same
  // (epoch, lane, seq) twice for different records, whatever run directory it uses. It lives
  // in RUN/host.epoch for the segment's life: a restarted relay keeps it (its lanes' sequence
  // numbers continue).
  const redis::Reply epoch = redis->command({"INCR", redis::epoch_key(host_id)});
  if (!epoch.is_integer() || epoch.integer() <= 0 ||
      static_cast<uint64_t>(epoch.integer()) >= redis::kEpochLimit)
    throw UsageError(
        fmt::format("the learner host at {} gave no usable epoch for host '{}' ({}): "
                    "join with another --host-id",
                    learner, host_id, epoch.is_error() ? epoch.error() : "out of range"));
  write_text_atomically(dir.path() + "/" + redis::kEpochFile, fmt::format("{}\n", epoch.integer()));
  redis.reset();

  SupervisorOptions options;
  options.actors = config.launch.actors;
  options.run_dir = dir.path();
  options.actor_binary = child_binary("RZ_ACTOR_BINARY", "../actor/ringzero-actor");
  write_config_atomically(config, dir.config_file());
  options.config = config;
  if (detach) return start_detached(options, dir, std::move(lock));
  lock->record_pid(::getpid());
  fmt::print(stderr,
             "ringzero: joining {} as host '{}': {} with {} actor{} + relay in {} (Ctrl-C "
             "stops it cleanly)\n",
             learner, host_id, config.game, options.actors, options.actors == 1 ? "" : "s",
             dir.path());
  return run_supervisor(options);
}

}  // namespace rz::launch
