// ringzero-bench-shm: TrajectoryRing lane throughput and WeightSlot copy speed, each figure
// printed beside a single-thread memcpy measured in the same run.
//
//   ringzero-bench-shm [--json] [--seconds S]
//
// Lane rows: producer thread(s) write records of one size from a hot source buffer into
// their lanes (copy + checksum); one consumer thread peeks (verifies header and checksum)
// and releases them. Rates are payload bytes per second seen by the consumer. The memcpy
// reference copies records of the same size from a hot buffer into a lane-sized
// destination, one after another, exactly the producer's access pattern minus the ring.
// Weight rows: publish and read of a 16 MiB blob beside memcpy of 16 MiB.
//
// The ring is a cross-core transfer, so each lane row also carries its physical reference
// measured in the same run: a cross-core copy (one thread copies records of the same size
// into a lane-sized buffer, a thread on another CPU copies each one out, handing slots over
// with one release/acquire pair, no checksum, no header). The threads are pinned: producer p
// on the p-th allowed CPU, the consumer on the last one, and the reference on the same pair
// as producer 0 and the consumer; the topology (cores, shared caches) is printed with the
// figures, because the result depends on where the two threads run.
#include <immintrin.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "shm/cpu_topology.h"
#include "shm/trajectory_ring.h"
#include "shm/weight_slot.h"

using namespace rz::shm;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Keeps the compiler from dropping copies whose result is never read.
void clobber(void* p) {
  asm volatile("" : : "g"(p) : "memory");
}

// Every figure is the best of kSlices equal time slices: on a shared machine other
// processes steal whole time slices from us, and the best slice is the closest to what the
// code can do. The memcpy references are measured the same way.
constexpr int kSlices = 8;

// GB/s of memcpy of `record` bytes at a time into a `dest_bytes` destination, cycling.
double memcpy_gbps(size_t record, size_t dest_bytes, double seconds) {
  std::vector<uint8_t> src(record, 1), dst(dest_bytes, 0);
  size_t slots = dest_bytes / record;
  double best = 0;
  for (int slice = 0; slice < kSlices; ++slice) {
    uint64_t bytes = 0;
    auto t0 = Clock::now();
    double elapsed = 0;
    size_t i = 0;
    do {
      for (int k = 0; k < 16; ++k, i = i + 1 == slots ? 0 : i + 1) {
        std::memcpy(dst.data() + i * record, src.data(), record);
        clobber(dst.data());
      }
      bytes += 16 * record;
    } while ((elapsed = seconds_since(t0)) < seconds / kSlices);
    best = std::max(best, bytes / elapsed / 1e9);
  }
  return best;
}

// The CPUs this process may use (its affinity mask, in order).
std::vector<int> allowed_cpus() {
  std::vector<int> out;
  for (const CpuInfo& c : read_cpu_topology().cpus) out.push_back(c.cpu);
  if (out.empty()) out.push_back(0);
  return out;
}

// Restores the calling thread's affinity mask when it goes out of scope.
struct AffinityGuard {
  cpu_set_t saved;
  AffinityGuard() { pthread_getaffinity_np(pthread_self(), sizeof saved, &saved); }
  ~AffinityGuard() { pthread_setaffinity_np(pthread_self(), sizeof saved, &saved); }
};

// GB/s of the cross-core copy reference: records of `record` bytes copied by a producer on
// CPU `producer_cpu` into a `buffer_bytes` ring of slots and copied out by this thread on
// CPU `consumer_cpu`; slots are handed over by a release store of the producer's count and
// given back by a release store of the consumer's.
double cross_core_copy_gbps(size_t record, size_t buffer_bytes, double seconds, int producer_cpu,
                            int consumer_cpu) {
  const size_t slots = std::max<size_t>(2, buffer_bytes / record);
  std::vector<uint8_t> buffer(slots * record, 0), dst(record, 0);
  alignas(64) std::atomic<uint64_t> head{0};
  alignas(64) std::atomic<uint64_t> tail{0};
  alignas(64) std::atomic<bool> stop{false};
  std::thread producer([&] {
    pin_this_thread(producer_cpu);
    std::vector<uint8_t> src(record);
    for (size_t i = 0; i < record; ++i) src[i] = uint8_t(i * 31);
    uint64_t n = 0, spins = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      if (n - tail.load(std::memory_order_acquire) >= slots) {
        if (++spins % 64 == 0) sched_yield();  // on a crowded machine: let others run
        _mm_pause();
        continue;
      }
      std::memcpy(buffer.data() + (n % slots) * record, src.data(), record);
      head.store(++n, std::memory_order_release);
    }
  });
  AffinityGuard restore;
  pin_this_thread(consumer_cpu);
  uint64_t consumed = 0, spins = 0;
  auto drain_for = [&](double s) {
    uint64_t bytes = 0;
    const auto t0 = Clock::now();
    double elapsed = 0;
    while ((elapsed = seconds_since(t0)) < s) {
      for (int k = 0; k < 64; ++k) {
        if (consumed == head.load(std::memory_order_acquire)) {
          if (++spins % 64 == 0) sched_yield();
          _mm_pause();
          continue;
        }
        std::memcpy(dst.data(), buffer.data() + (consumed % slots) * record, record);
        clobber(dst.data());
        tail.store(++consumed, std::memory_order_release);
        bytes += record;
      }
    }
    return bytes / elapsed / 1e9;
  };
  drain_for(seconds / 4);
  double best = 0;
  for (int slice = 0; slice < kSlices; ++slice) best = std::max(best, drain_for(seconds / kSlices));
  stop.store(true);
  producer.join();
  return best;
}

struct LaneResult {
  size_t record;
  int producers;
  double records_per_s;
  double gbps;
  double memcpy_gbps;
  double cross_core_gbps;
  std::vector<int> producer_cpus;
  int consumer_cpu;
};

LaneResult lane_run(size_t record, int producers, double seconds) {
  const std::string name = "/rz-bench-shm-" + std::to_string(::getpid());
  Segment::remove(name);
  SegmentSizes sizes;
  sizes.lanes = uint32_t(producers);
  sizes.max_record_bytes = std::max<uint64_t>(record, 1 << 20);
  sizes.lane_bytes = 16u << 20;
  sizes.weight_bytes = 4096;
  sizes.stats_slots = 4;
  auto seg = Segment::create(name, sizes, "bench");
  std::atomic<uint32_t> stop{0};
  std::vector<std::thread> threads;
  const std::vector<int> cpus = allowed_cpus();
  const int consumer_cpu = cpus.back();
  std::vector<int> producer_cpus;
  for (int p = 0; p < producers; ++p) producer_cpus.push_back(cpus[size_t(p) % cpus.size()]);
  AffinityGuard restore;
  pin_this_thread(consumer_cpu);
  for (int p = 0; p < producers; ++p)
    threads.emplace_back([&, p] {
      pin_this_thread(producer_cpus[size_t(p)]);
      LaneWriter w(*seg, uint32_t(p));
      std::vector<uint8_t> src(record);
      for (size_t i = 0; i < record; ++i) src[i] = uint8_t(i * 31 + p);
      while (w.write(src.data(), src.size(), &stop)) {
      }
    });
  auto reader_owner = std::make_unique<RingReader>(*seg);
  RingReader& reader = *reader_owner;
  // Warm up (first touch of the lane pages), then measure.
  uint64_t records = 0, bytes = 0;
  auto drain_for = [&](double s) {
    records = bytes = 0;
    auto t0 = Clock::now();
    double elapsed = 0;
    while ((elapsed = seconds_since(t0)) < s) {
      for (int k = 0; k < 64; ++k) {
        auto r = reader.peek();
        if (!r) {
          reader.wait(std::chrono::milliseconds(10));
          break;
        }
        bytes += r->size;
        ++records;
        reader.release(*r);
      }
    }
    return elapsed;
  };
  drain_for(seconds / 4);
  double best_records_per_s = 0, best_gbps = 0;
  for (int slice = 0; slice < kSlices; ++slice) {
    double elapsed = drain_for(seconds / kSlices);
    if (bytes / elapsed / 1e9 > best_gbps) {
      best_gbps = bytes / elapsed / 1e9;
      best_records_per_s = records / elapsed;
    }
  }
  stop.store(1);
  while (auto r = reader.peek()) reader.release(*r);  // unblock producers waiting for space
  for (auto& t : threads) t.join();
  const uint64_t corrupt = reader.corrupt_records_skipped();
  reader_owner.reset();  // before the segment is unmapped
  seg.reset();
  Segment::remove(name);
  if (corrupt != 0)
    throw ShmError(std::to_string(corrupt) +
                   " corrupt records seen: the ring is broken, "
                   "run the tests in tests/shm");
  LaneResult r;
  r.record = record;
  r.producers = producers;
  r.records_per_s = best_records_per_s;
  r.gbps = best_gbps;
  r.memcpy_gbps = memcpy_gbps(record, sizes.lane_bytes, seconds / 2);
  r.cross_core_gbps =
      cross_core_copy_gbps(record, sizes.lane_bytes, seconds, producer_cpus[0], consumer_cpu);
  r.producer_cpus = producer_cpus;
  r.consumer_cpu = consumer_cpu;
  return r;
}

// ns per 256 B record when one thread writes, peeks and releases: the CPU cost of the
// protocol (header, checksum both sides, commit and release stores) without any cross-core
// traffic or waiting.
double single_thread_ns_per_record(size_t record, double seconds) {
  const std::string name = "/rz-bench-shm-st-" + std::to_string(::getpid());
  Segment::remove(name);
  SegmentSizes sizes;
  sizes.lanes = 1;
  sizes.lane_bytes = 4u << 20;
  sizes.max_record_bytes = 1u << 20;
  sizes.weight_bytes = 4096;
  sizes.stats_slots = 4;
  auto seg = Segment::create(name, sizes, "bench");
  double best = 1e30;
  {
    LaneWriter w(*seg, 0);
    RingReader r(*seg);
    std::vector<uint8_t> src(record, 5);
    for (int slice = 0; slice < kSlices; ++slice) {
      uint64_t n = 0;
      auto t0 = Clock::now();
      double elapsed;
      do {
        for (int k = 0; k < 256; ++k) {
          (void)w.write(src.data(), src.size());  // no stop flag: never false
          auto rec = r.peek();
          r.release(*rec);
        }
        n += 256;
      } while ((elapsed = seconds_since(t0)) < seconds / kSlices);
      best = std::min(best, elapsed / n * 1e9);
    }
  }
  seg.reset();
  Segment::remove(name);
  return best;
}

std::string load_average() {
  FILE* f = std::fopen("/proc/loadavg", "r");
  char buf[64] = "?";
  if (f) {
    if (!std::fgets(buf, sizeof buf, f)) buf[0] = 0;
    std::fclose(f);
  }
  std::string s(buf);
  return s.substr(0, s.find(' '));
}

struct WeightResult {
  double publish_gbps, read_gbps, memcpy_gbps;
};

WeightResult weight_run(double seconds) {
  const size_t blob_bytes = 16u << 20;
  const std::string name = "/rz-bench-shm-w-" + std::to_string(::getpid());
  Segment::remove(name);
  SegmentSizes sizes;
  sizes.lanes = 1;
  sizes.weight_bytes = blob_bytes;
  sizes.stats_slots = 4;
  auto seg = Segment::create(name, sizes, "bench");
  WeightSlot slot(*seg);
  std::vector<uint8_t> blob(blob_bytes, 7), out;
  slot.publish(blob.data(), blob.size(), 1);  // first touch of the buffers
  slot.publish(blob.data(), blob.size(), 1);
  slot.publish(blob.data(), blob.size(), 1);
  // Best-of-slices rate of op(), each call moving blob_bytes.
  auto best_gbps = [&](const std::function<void()>& op) {
    double best = 0;
    for (int slice = 0; slice < kSlices; ++slice) {
      uint64_t n = 0;
      auto t0 = Clock::now();
      double elapsed;
      do {
        op();
        ++n;
      } while ((elapsed = seconds_since(t0)) < seconds / kSlices);
      best = std::max(best, n * double(blob_bytes) / elapsed / 1e9);
    }
    return best;
  };
  WeightResult r;
  r.publish_gbps = best_gbps([&] { slot.publish(blob.data(), blob.size(), 1); });
  slot.read(&out);
  r.read_gbps = best_gbps([&] {
    slot.read(&out);
    clobber(out.data());
  });
  // Reference: memcpy of one 16 MiB buffer into another (both already touched).
  std::vector<uint8_t> dst(blob_bytes, 0);
  r.memcpy_gbps = best_gbps([&] {
    std::memcpy(dst.data(), blob.data(), blob_bytes);
    clobber(dst.data());
  });
  seg.reset();
  Segment::remove(name);
  return r;
}

std::string size_label(size_t b) {
  if (b >= (1 << 20)) return std::to_string(b >> 20) + " MiB";
  if (b >= 1024) return std::to_string(b >> 10) + " KiB";
  return std::to_string(b) + " B";
}

}  // namespace

int main(int argc, char** argv) {
  bool json = false;
  double seconds = 0.4;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--json") {
      json = true;
    } else if (a == "--seconds" && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
      if (!(seconds > 0 && seconds < 60)) {
        std::fprintf(stderr, "ringzero-bench-shm: --seconds must be in (0, 60): pass e.g. 0.4\n");
        return 2;
      }
    } else {
      std::fprintf(stderr,
                   "ringzero-bench-shm: unknown argument '%s': usage: "
                   "ringzero-bench-shm [--json] [--seconds S]\n",
                   a.c_str());
      return 2;
    }
  }
  try {
    const std::string load = load_average();
    const unsigned cpus = std::thread::hardware_concurrency();
    const std::string topology = read_cpu_topology().describe();
    std::vector<LaneResult> lanes;
    for (int producers : {1, 2})
      for (size_t record : {size_t(256), size_t(4096), size_t(65536), size_t(1 << 20)})
        lanes.push_back(lane_run(record, producers, seconds));
    // Per-record overhead: time per 256 B record with one producer minus the memcpy time of
    // its 256 bytes.
    const LaneResult& small = lanes[0];
    double ns_per_record = 1e9 / small.records_per_s;
    double memcpy_ns = 256 / (small.memcpy_gbps * 1e9) * 1e9;
    double overhead_ns = ns_per_record - memcpy_ns;
    double single_ns = single_thread_ns_per_record(256, seconds);
    WeightResult w = weight_run(seconds);

    if (json) {
      std::printf("{\"load_average_1min\": %s, \"cpus\": %u, \"topology\": \"%s\", \"lanes\": [",
                  load.c_str(), cpus, topology.c_str());
      for (size_t i = 0; i < lanes.size(); ++i) {
        const auto& l = lanes[i];
        std::string pcpus;
        for (int c : l.producer_cpus) pcpus += (pcpus.empty() ? "" : ", ") + std::to_string(c);
        std::printf(
            "%s{\"record_bytes\": %zu, \"producers\": %d, \"records_per_s\": %.0f, "
            "\"gb_per_s\": %.3f, \"memcpy_gb_per_s\": %.3f, \"fraction_of_memcpy\": %.3f, "
            "\"cross_core_copy_gb_per_s\": %.3f, \"fraction_of_cross_core_copy\": %.3f, "
            "\"producer_cpus\": [%s], \"consumer_cpu\": %d}",
            i ? ", " : "", l.record, l.producers, l.records_per_s, l.gbps, l.memcpy_gbps,
            l.gbps / l.memcpy_gbps, l.cross_core_gbps, l.gbps / l.cross_core_gbps, pcpus.c_str(),
            l.consumer_cpu);
      }
      std::printf(
          "], \"record_256b\": {\"ns_per_record\": %.1f, \"memcpy_ns\": %.1f, "
          "\"overhead_ns\": %.1f, \"single_thread_ns_per_record\": %.1f}, ",
          ns_per_record, memcpy_ns, overhead_ns, single_ns);
      std::printf(
          "\"weight_slot_16mib\": {\"publish_gb_per_s\": %.3f, \"read_gb_per_s\": %.3f, "
          "\"memcpy_gb_per_s\": %.3f, \"publish_fraction_of_memcpy\": %.3f, "
          "\"read_fraction_of_memcpy\": %.3f}}\n",
          w.publish_gbps, w.read_gbps, w.memcpy_gbps, w.publish_gbps / w.memcpy_gbps,
          w.read_gbps / w.memcpy_gbps);
      return 0;
    }
    std::printf("load average %s on %u CPUs at start; every figure is the best of %d slices\n",
                load.c_str(), cpus, kSlices);
    std::printf("topology: %s\n\n", topology.c_str());
    std::printf(
        "TrajectoryRing lanes (payload GB/s at the consumer; beside a single-thread memcpy "
        "and a cross-core copy of the same record size, same run)\n");
    std::printf("%-9s %-9s %-9s %14s %10s %12s %9s %12s %9s\n", "record", "producers", "cpus",
                "records/s", "GB/s", "memcpy GB/s", "of memcpy", "x-core GB/s", "of x-core");
    for (const auto& l : lanes) {
      std::string where;
      for (int c : l.producer_cpus) where += (where.empty() ? "" : ",") + std::to_string(c);
      where += ">" + std::to_string(l.consumer_cpu);
      std::printf("%-9s %-9d %-9s %14.0f %10.2f %12.2f %8.0f%% %12.2f %8.0f%%\n",
                  size_label(l.record).c_str(), l.producers, where.c_str(), l.records_per_s, l.gbps,
                  l.memcpy_gbps, 100 * l.gbps / l.memcpy_gbps, l.cross_core_gbps,
                  100 * l.gbps / l.cross_core_gbps);
    }
    std::printf(
        "\n256 B records, 1 producer: %.1f ns per record, of which memcpy %.1f ns: "
        "overhead %.1f ns\n",
        ns_per_record, memcpy_ns, overhead_ns);
    std::printf(
        "256 B records, one thread writing, peeking and releasing: %.1f ns per record "
        "(memcpy %.1f ns)\n",
        single_ns, memcpy_ns);
    std::printf("\nWeightSlot, 16 MiB blob (memcpy 16 MiB -> 16 MiB: %.2f GB/s)\n", w.memcpy_gbps);
    std::printf("  publish %.2f GB/s (%.0f%% of memcpy)\n", w.publish_gbps,
                100 * w.publish_gbps / w.memcpy_gbps);
    std::printf("  read    %.2f GB/s (%.0f%% of memcpy)\n", w.read_gbps,
                100 * w.read_gbps / w.memcpy_gbps);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ringzero-bench-shm: %s\n", e.what());
    return 1;
  }
  return 0;
}
