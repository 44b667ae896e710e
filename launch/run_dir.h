// RunDir: where one training run keeps everything on disk, and the small files the
// supervisor maintains there. The layout (every role follows it, see docs/architecture.md):
//
//   RUN/config.ini              the effective configuration every process reads
//   RUN/shm_name                the run's shared-memory segment name
//   RUN/generation              how many times the run has been started (1 = fresh)
//   RUN/pids/launch.pid         the supervisor; actor-K.pid, learner.pid its children
//   RUN/pids/roles              the supervisor's view of every role (pid, restarts, state),
//                               rewritten atomically on every change; status/monitor read it
//   RUN/logs/launch.log         the supervisor's log; actor-K.log, learner.log the children's
//   RUN/checkpoints/ckpt-*.rzck the learner's checkpoints
//   RUN/metrics.csv             the learner's metrics
//   RUN/eval.csv                the evaluator's results (logs/eval.log its log)
//   RUN/stats.snapshot          every process's counters, saved by the supervisor at stop and
//                               every few seconds; seeds the next generation (stats_snapshot.h)
//
//   RUN/lock                    held (F_OFD_SETLK) by the supervisor for its whole life; it
//                               holds the supervisor's pid (common/file_lock.h)
//   RUN/shm_token               the run token recorded in the run's segment
//   RUN/checkpoints/lock        held by the learner that writes the checkpoints
//
// Small files are written atomically (common/durable_file.h) so that a SIGKILL at any
// instant leaves the old or the new content, never a torn one. Everything is private to the
// user: directories 0700, files 0600, and a run directory anyone else can write is refused.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace rz::launch {

class RunDir {
 public:
  // `path` may be relative; it is made absolute (the directory need not exist yet).
  explicit RunDir(const std::string& path);

  const std::string& path() const { return path_; }
  std::string config_file() const { return path_ + "/config.ini"; }
  std::string shm_name_file() const { return path_ + "/shm_name"; }
  std::string generation_file() const { return path_ + "/generation"; }
  std::string pids_dir() const { return path_ + "/pids"; }
  std::string logs_dir() const { return path_ + "/logs"; }
  std::string pid_file(const std::string& role) const { return pids_dir() + "/" + role + ".pid"; }
  std::string log_file(const std::string& role) const { return logs_dir() + "/" + role + ".log"; }
  std::string roles_file() const { return pids_dir() + "/roles"; }
  std::string stats_snapshot_file() const { return path_ + "/stats.snapshot"; }

  std::string lock_file() const { return path_ + "/lock"; }
  std::string token_file() const { return path_ + "/shm_token"; }
  std::string checkpoints_dir() const { return path_ + "/checkpoints"; }

  bool exists() const;
  // Creates RUN, RUN/pids, RUN/logs and RUN/checkpoints (mode 0700), then check_private().
  // Throws UserError (common/error.h; one line naming the fix) on failure.
  void create_layout() const;
  // Refuses (UserError), with one line naming the directory, the reason and the fix, a run
  // directory that is not this user's own and private: RUN (followed if it is a symlink, so
  // runs/latest works) and each of its subdirectories that exists (never a symlink) must be
  // owned by this user and writable by nobody else. Another local user who can write there
  // could plant symlinks (our logs appended to their target), a config.ini, checkpoints or a
  // pid.
  void check_private() const;

 private:
  std::string path_;
};

// The supervisor's view of one role, as RUN/pids/roles records it.
struct RoleRecord {
  std::string role;  // "actor-0", ..., "learner"
  pid_t pid = 0;
  uint32_t restarts = 0;  // over the whole run, across generations
  std::string state;      // starting | running | backoff | gave-up | stopped
  std::string note;       // why it gave up, or ""
};

// Reads RUN/pids/roles; missing or unreadable file -> empty map.
std::map<std::string, RoleRecord> read_role_records(const RunDir& dir);
void write_role_records(const RunDir& dir, const std::vector<RoleRecord>& records);

// Whole-file helpers. read_text_file returns false if the file cannot be read.
bool read_text_file(const std::string& path, std::string* text);
// tmp + fsync + rename. Throws std::runtime_error naming the path.
void write_text_atomically(const std::string& path, const std::string& text);
// A pid file's pid, or 0 when missing or malformed.
pid_t read_pid_file(const std::string& path);
// The segment name recorded in RUN/shm_name, or "" when there is none.
std::string read_shm_name(const RunDir& dir);

// RUN/generation: 0 when the file is missing (a fresh run), else the number it holds.
// Throws UserError (one line naming the file and the fix) when it holds anything
// but a positive whole number: a generation must never silently start again from 1.
uint64_t read_generation(const RunDir& dir);

// `text` as one shell word, the way bash's printf %q writes it (a backslash before every
// character a shell would interpret), so that printed next-step commands can be pasted
// even when the run directory holds spaces.
std::string shell_quote(const std::string& text);

}  // namespace rz::launch
