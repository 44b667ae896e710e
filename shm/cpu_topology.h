// CpuTopology: which CPUs this process may run on and how they share cores and caches, read
// from Linux's /sys and /proc. Benchmarks print it beside every figure, because a cross-core
// transfer's speed depends on whether the two threads share an L2, an L3, or nothing.
#pragma once

#include <string>
#include <vector>

namespace rz::shm {

struct CpuInfo {
  int cpu = 0;
  int core_id = -1, package_id = -1;           // -1: not reported
  std::string l2_shared_with, l3_shared_with;  // e.g. "0-1"; empty: not reported
};

struct CpuTopology {
  std::string model;          // /proc/cpuinfo "model name"
  std::vector<CpuInfo> cpus;  // the CPUs in this process's affinity mask, in order
  // One line: "AMD EPYC, 2 CPUs: cpu0 core 0 pkg 0 (L2 0, L3 0-1), cpu1 ...".
  std::string describe() const;
};

CpuTopology read_cpu_topology();

// Pins the calling thread to `cpu`; false if the kernel refused (e.g. not in the mask).
bool pin_this_thread(int cpu);
// The CPU the calling thread runs on now (sched_getcpu), -1 if unknown.
int current_cpu();

}  // namespace rz::shm
