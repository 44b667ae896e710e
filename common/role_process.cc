#include "common/role_process.h"

#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <stdexcept>

#include <fmt/format.h>

#include "shm/control.h"

namespace rz {
namespace {

std::atomic<uint32_t> g_stop_word{0};

extern "C" void on_stop_signal(int) {
  // A lock-free atomic store is async-signal-safe; nothing else happens here.
  g_stop_word.store(1, std::memory_order_release);
}

}  // namespace

std::atomic<uint32_t>& role_stop_word() {
  return g_stop_word;
}

std::atomic<uint32_t>& start_role_process() {
  std::signal(SIGPIPE, SIG_IGN);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::setvbuf(stderr, nullptr, _IOLBF, 0);
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a futex sleep returns EINTR and re-checks the word
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  return g_stop_word;
}

void require_run_dir(RunConfig* config) {
  if (config->run_dir.empty()) throw std::runtime_error("--run-dir is required");
  if (config->shm.name.empty()) config->shm.name = default_shm_name(config->run_dir);
}

RunWatcher::RunWatcher(shm::Segment& segment, std::atomic<uint32_t>* stop,
                       std::function<void(const std::string&)> log)
    : segment_(segment), stop_(stop), log_(std::move(log)) {
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGINT);
  pthread_sigmask(SIG_BLOCK, &block, &old);  // inherited by the thread, then restored here
  thread_ = std::thread([this] { watch(); });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

RunWatcher::~RunWatcher() {
  done_.store(true, std::memory_order_release);
  thread_.join();
}

void RunWatcher::watch() {
  shm::Segment& segment = segment_;
  std::atomic<uint32_t>* stop = stop_;
  shm::ControlBlock& control = segment.control();
  for (int tick = 1;
       !done_.load(std::memory_order_acquire) && !stop->load(std::memory_order_acquire); ++tick) {
    if (control.wait_for_stop(std::chrono::milliseconds(100))) {
      stop->store(1, std::memory_order_release);
      return;
    }
    if (shm::StatsWriter* w = blocked_writer_.load(std::memory_order_acquire)) w->heartbeat();
    if (tick % 10 == 0 && !segment.creator_alive()) {
      creator_gone_.store(true, std::memory_order_relaxed);
      if (log_)
        log_(fmt::format("the run's creator (pid {}) is gone: stopping", segment.creator_pid()));
      stop->store(1, std::memory_order_release);
      return;
    }
  }
}

}  // namespace rz
