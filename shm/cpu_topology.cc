#include "shm/cpu_topology.h"

#include <pthread.h>
#include <sched.h>

#include <fstream>
#include <string>

namespace rz::shm {
namespace {

std::string read_line(const std::string& path) {
  std::ifstream f(path);
  std::string line;
  std::getline(f, line);
  return line;
}

int read_int(const std::string& path) {
  const std::string s = read_line(path);
  try {
    return s.empty() ? -1 : std::stoi(s);
  } catch (const std::exception&) {
    return -1;
  }
}

}  // namespace

CpuTopology read_cpu_topology() {
  CpuTopology t;
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line))
    if (line.rfind("model name", 0) == 0) {
      t.model = line.substr(line.find(':') + 2);
      break;
    }
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return t;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &set)) continue;
    const std::string base = "/sys/devices/system/cpu/cpu" + std::to_string(cpu);
    CpuInfo c;
    c.cpu = cpu;
    c.core_id = read_int(base + "/topology/core_id");
    c.package_id = read_int(base + "/topology/physical_package_id");
    for (int index = 0; index < 8; ++index) {
      const std::string dir = base + "/cache/index" + std::to_string(index);
      const int level = read_int(dir + "/level");
      if (level < 0) break;
      if (read_line(dir + "/type") == "Instruction") continue;
      if (level == 2) c.l2_shared_with = read_line(dir + "/shared_cpu_list");
      if (level == 3) c.l3_shared_with = read_line(dir + "/shared_cpu_list");
    }
    t.cpus.push_back(c);
  }
  return t;
}

std::string CpuTopology::describe() const {
  std::string s = (model.empty() ? std::string("unknown CPU") : model) + ", " +
                  std::to_string(cpus.size()) + " CPUs:";
  for (const CpuInfo& c : cpus) {
    s += " cpu" + std::to_string(c.cpu) + " core " + std::to_string(c.core_id) + " pkg " +
         std::to_string(c.package_id) + " (L2 " +
         (c.l2_shared_with.empty() ? "?" : c.l2_shared_with) + ", L3 " +
         (c.l3_shared_with.empty() ? "?" : c.l3_shared_with) + ")";
    if (&c != &cpus.back()) s += ",";
  }
  return s;
}

bool pin_this_thread(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

int current_cpu() {
  return sched_getcpu();
}

}  // namespace rz::shm
