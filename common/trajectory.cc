#include "common/trajectory.h"

#include "common/hash.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace rz {
namespace {

constexpr uint16_t kFlagResigned = 1u << 0;
constexpr uint16_t kFlagResignDisabled = 1u << 1;
constexpr uint16_t kFlagWouldHaveResignedWrongly = 1u << 2;
constexpr uint16_t kKnownFlags =
    kFlagResigned | kFlagResignDisabled | kFlagWouldHaveResignedWrongly;

constexpr uint8_t kBitMover = 1u << 0;
constexpr uint8_t kBitFullSearch = 1u << 1;
constexpr uint8_t kKnownBits = kBitMover | kBitFullSearch;

constexpr float kValueScale = 32767.0f;

// ---- writing ------------------------------------------------------------------------------

// Writes through a raw pointer into a buffer sized for the worst case up front: one
// resize per record instead of a capacity check per byte.
class Writer {
 public:
  explicit Writer(uint8_t* p) : p_(p) {}
  template <typename T>
  void fixed(T v) {  // little-endian, whatever the host
    uint64_t u = 0;
    std::memcpy(&u, &v, sizeof(T));
    for (size_t i = 0; i < sizeof(T); ++i) p_[i] = static_cast<uint8_t>(u >> (8 * i));
    p_ += sizeof(T);
  }
  void var(uint64_t v) {
    while (v >= 0x80) {
      *p_++ = static_cast<uint8_t>(v | 0x80);
      v >>= 7;
    }
    *p_++ = static_cast<uint8_t>(v);
  }
  uint8_t* position() const { return p_; }

 private:
  uint8_t* p_;
};

constexpr size_t kHeaderBound = 4 + 2 + 2 + 8 + 4 + 8 + 8 + 8 + 4 + 4 + 10;
constexpr size_t kPositionBound = 2 + 1 + 2 + 10 + 10;  // without its visits
constexpr size_t kVisitBound = 2 + 5;                   // u16 action + varint of a u32

// ---- reading: every read is bounds-checked ------------------------------------------------

class Reader {
 public:
  Reader(const uint8_t* p, size_t n) : p_(p), end_(p + n) {}
  template <typename T>
  T fixed(const char* what) {
    if (static_cast<size_t>(end_ - p_) < sizeof(T))
      throw TrajectoryError(fmt::format("record truncated while reading {}", what));
    uint64_t u = 0;
    for (size_t i = 0; i < sizeof(T); ++i) u |= static_cast<uint64_t>(p_[i]) << (8 * i);
    p_ += sizeof(T);
    T v;
    std::memcpy(&v, &u, sizeof(T));
    return v;
  }
  uint64_t var(const char* what) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) throw TrajectoryError(fmt::format("record truncated while reading {}", what));
      const uint8_t b = *p_++;
      // The tenth byte may only carry the top bit of a 64-bit value.
      if (shift == 63 && b > 1) break;
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    throw TrajectoryError(fmt::format("malformed varint in {}", what));
  }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

[[noreturn]] void bad(const std::string& why) {
  throw TrajectoryError(why);
}

int16_t quantise_value(float v) {
  if (!std::isfinite(v)) bad(fmt::format("cannot encode root value {}", v));
  v = std::clamp(v, -1.0f, 1.0f);
  return static_cast<int16_t>(std::lround(v * kValueScale));
}

}  // namespace

uint64_t game_spec_hash(const std::string& spec) {
  return fnv1a64(spec);
}

void encode_trajectory(const FinishedGame& game, const TrajectoryOrigin& origin,
                       std::vector<uint8_t>* out) {
  out->clear();
  uint64_t min_v = 0, max_v = 0;
  if (!game.positions.empty()) {
    min_v = std::numeric_limits<uint64_t>::max();
    for (const auto& p : game.positions) {
      min_v = std::min(min_v, p.weight_version);
      max_v = std::max(max_v, p.weight_version);
    }
  }
  uint16_t flags = 0;
  if (game.resigned) flags |= kFlagResigned;
  if (game.resign_disabled) flags |= kFlagResignDisabled;
  if (game.would_have_resigned_wrongly) flags |= kFlagWouldHaveResignedWrongly;

  size_t bound = kHeaderBound + 4;
  for (const auto& p : game.positions) bound += kPositionBound + kVisitBound * p.visits.size();
  out->resize(bound);

  Writer w(out->data());
  w.fixed<uint32_t>(kTrajectoryMagic);
  w.fixed<uint16_t>(kTrajectoryVersion);
  w.fixed<uint16_t>(flags);
  w.fixed<uint64_t>(origin.game_spec_hash);
  w.fixed<uint32_t>(origin.actor_slot);
  w.fixed<uint64_t>(origin.game_id);
  w.fixed<uint64_t>(min_v);
  w.fixed<uint64_t>(max_v);
  w.fixed<float>(game.returns[0]);
  w.fixed<float>(game.returns[1]);
  w.var(game.positions.size());
  for (const auto& p : game.positions) {
    if (p.action < 0 || p.action > 0xffff) bad(fmt::format("cannot encode action {}", p.action));
    if (p.player != 0 && p.player != 1) bad(fmt::format("cannot encode player {}", p.player));
    w.fixed<uint16_t>(static_cast<uint16_t>(p.action));
    w.fixed<uint8_t>(
        static_cast<uint8_t>((p.player ? kBitMover : 0) | (p.full_search ? kBitFullSearch : 0)));
    w.fixed<int16_t>(quantise_value(p.root_value));
    w.var(p.weight_version - min_v);
    w.var(p.visits.size());
    // The format stores visits by increasing action; the search already emits them so,
    // sorting is the fallback.
    const bool sorted =
        std::is_sorted(p.visits.begin(), p.visits.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
    auto put = [&](const std::pair<Action, uint32_t>& v) {
      if (v.first < 0 || v.first > 0xffff)
        bad(fmt::format("cannot encode visit action {}", v.first));
      w.fixed<uint16_t>(static_cast<uint16_t>(v.first));
      w.var(v.second);
    };
    if (sorted) {
      for (const auto& v : p.visits) put(v);
    } else {
      auto copy = p.visits;
      std::sort(copy.begin(), copy.end());
      for (const auto& v : copy) put(v);
    }
  }
  out->resize(static_cast<size_t>(w.position() - out->data()) + 4);
  Writer tail(out->data() + out->size() - 4);
  tail.fixed<uint32_t>(fnv1a32(out->data(), out->size() - 4));
}

DecodedTrajectory decode_trajectory(const uint8_t* data, size_t size, const Game& game) {
  if (data == nullptr || size < 4) bad(fmt::format("record of {} bytes is too short", size));
  {
    Reader tail(data + size - 4, 4);
    const uint32_t stored = tail.fixed<uint32_t>("checksum");
    const uint32_t computed = fnv1a32(data, size - 4);
    if (stored != computed)
      bad(fmt::format("checksum mismatch (stored {:08x}, computed {:08x})", stored, computed));
  }
  Reader r(data, size - 4);
  DecodedTrajectory out;
  const uint32_t magic = r.fixed<uint32_t>("magic");
  if (magic != kTrajectoryMagic)
    bad(fmt::format("bad magic {:08x}: not a trajectory record", magic));
  const uint16_t version = r.fixed<uint16_t>("version");
  if (version != kTrajectoryVersion)
    bad(fmt::format("format version {} is not supported (this build reads {})", version,
                    kTrajectoryVersion));
  const uint16_t flags = r.fixed<uint16_t>("flags");
  if (flags & ~kKnownFlags) bad(fmt::format("unknown flags {:#x}", flags));
  FinishedGame& g = out.game;
  g.resigned = flags & kFlagResigned;
  g.resign_disabled = flags & kFlagResignDisabled;
  g.would_have_resigned_wrongly = flags & kFlagWouldHaveResignedWrongly;
  if (g.resigned && g.resign_disabled) bad("flags say resigned in a resign-disabled game");
  if (g.would_have_resigned_wrongly && !g.resign_disabled)
    bad("flags say would-have-resigned-wrongly in a game with resignation enabled");

  out.origin.game_spec_hash = r.fixed<uint64_t>("game hash");
  const uint64_t expected_hash = game_spec_hash(game.spec());
  if (out.origin.game_spec_hash != expected_hash)
    bad(fmt::format("record is for another game (hash {:016x}, {} is {:016x})",
                    out.origin.game_spec_hash, game.spec(), expected_hash));
  out.origin.actor_slot = r.fixed<uint32_t>("actor slot");
  out.origin.game_id = r.fixed<uint64_t>("game id");
  out.min_weight_version = r.fixed<uint64_t>("min weight version");
  out.max_weight_version = r.fixed<uint64_t>("max weight version");
  if (out.min_weight_version > out.max_weight_version)
    bad(fmt::format("min weight version {} > max {}", out.min_weight_version,
                    out.max_weight_version));
  for (int p = 0; p < 2; ++p) {
    g.returns[p] = r.fixed<float>("returns");
    if (!(g.returns[p] >= -1.0f && g.returns[p] <= 1.0f))
      bad(fmt::format("outcome {} for player {} is outside [-1, 1]", g.returns[p], p));
  }
  const uint64_t n = r.var("position count");
  const uint64_t max_len = static_cast<uint64_t>(game.max_game_length());
  if (n > max_len) bad(fmt::format("{} positions exceed the game's maximum length {}", n, max_len));
  // Every position takes at least 7 bytes: refuse a count the bytes cannot hold before
  // reserving memory for it.
  if (n * 7 > r.remaining())
    bad(fmt::format("record truncated: {} positions in {} bytes", n, r.remaining()));

  const int num_actions = game.num_actions();
  const uint64_t version_span = out.max_weight_version - out.min_weight_version;
  uint64_t seen_min = std::numeric_limits<uint64_t>::max(), seen_max = 0;
  auto state = game.new_initial_state();
  std::vector<uint8_t> legal(static_cast<size_t>(num_actions));
  g.positions.resize(n);
  for (uint64_t i = 0; i < n; ++i) {
    PositionRecord& pos = g.positions[i];
    pos.action = r.fixed<uint16_t>("action");
    const uint8_t bits = r.fixed<uint8_t>("position bits");
    if (bits & ~kKnownBits) bad(fmt::format("position {}: unknown bits {:#x}", i, bits));
    pos.player = (bits & kBitMover) ? 1 : 0;
    pos.full_search = bits & kBitFullSearch;
    const int16_t q = r.fixed<int16_t>("root value");
    if (q < -32767) bad(fmt::format("position {}: root value code {} out of range", i, q));
    pos.root_value = static_cast<float>(q) / kValueScale;
    const uint64_t delta = r.var("weight version");
    if (delta > version_span)
      bad(fmt::format("position {}: weight version delta {} exceeds the record's span {}", i, delta,
                      version_span));
    pos.weight_version = out.min_weight_version + delta;
    seen_min = std::min(seen_min, pos.weight_version);
    seen_max = std::max(seen_max, pos.weight_version);

    if (state->is_terminal()) bad(fmt::format("position {}: the game was already over", i));
    state->legal_mask(legal.data());  // one virtual call for the move and all its visits
    if (pos.action >= num_actions || !legal[pos.action])
      bad(fmt::format("position {}: action {} is illegal", i, pos.action));
    if (pos.player != state->current_player())
      bad(fmt::format("position {}: recorded mover {} but player {} is to move", i, pos.player,
                      state->current_player()));

    const uint64_t nv = r.var("visit count");
    if (nv == 0 || nv > static_cast<uint64_t>(num_actions) || nv * 3 > r.remaining())
      bad(fmt::format("position {}: {} visit entries is impossible", i, nv));
    pos.visits.resize(nv);
    bool played_visited = false;
    for (uint64_t v = 0; v < nv; ++v) {
      const Action a = r.fixed<uint16_t>("visit action");
      const uint64_t count = r.var("visit count");
      if (a >= num_actions || !legal[a])
        bad(fmt::format("position {}: visited action {} is illegal", i, a));
      if (v > 0 && a <= pos.visits[v - 1].first)
        bad(fmt::format("position {}: visit actions not strictly increasing", i));
      if (count == 0 || count > std::numeric_limits<uint32_t>::max())
        bad(fmt::format("position {}: visit count {} out of range", i, count));
      pos.visits[v] = {a, static_cast<uint32_t>(count)};
      played_visited |= a == pos.action;
    }
    if (!played_visited)
      bad(fmt::format("position {}: played action {} has no visits", i, pos.action));
    state->apply(pos.action);
  }
  if (r.remaining() != 0)
    bad(fmt::format("{} unexpected bytes after the last position", r.remaining()));
  if (n > 0 && (seen_min != out.min_weight_version || seen_max != out.max_weight_version))
    bad(fmt::format("weight versions [{}, {}] do not match the header's [{}, {}]", seen_min,
                    seen_max, out.min_weight_version, out.max_weight_version));
  if (n == 0 && (out.min_weight_version != 0 || out.max_weight_version != 0))
    bad("a record without positions carries weight versions");

  if (g.resigned) {
    if (state->is_terminal()) bad("resigned game ends in a terminal state");
    const int loser = state->current_player();
    if (g.returns[loser] != -1.0f || g.returns[1 - loser] != 1.0f)
      bad(fmt::format("resigned game: the resigning player {} must score -1 and the other +1",
                      loser));
  } else {
    if (!state->is_terminal()) bad("game ends before a terminal state without resignation");
    for (int p = 0; p < 2; ++p)
      if (g.returns[p] != state->returns(p))
        bad(fmt::format("outcome {} for player {} but the final position gives {}", g.returns[p], p,
                        state->returns(p)));
  }
  return out;
}

}  // namespace rz
