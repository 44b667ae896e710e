// The subcommands of ringzero-launch (launch/launch.sh forwards to them); start is in
// start_command.cc (its steps: start_command.h), the others in commands.cc, what they share in
// command_support.h:
//
//   start            create the run (or continue it with --resume) and supervise it
//   join             an actor host joins a learner host started with --serve (scale-out)
//   stop             ask a run's supervisor to stop it cleanly and wait until it has
//   status           one screen about a run: every role, alive or not, and why
//   restart-learner  restart the learner alone from its checkpoint; actors keep playing
//   monitor          the live table (ringzero-monitor)
//
// Each takes argv without the subcommand word and returns the exit code. Bad input gives a
// one-line "ringzero-launch: ..." message naming the problem and the fix, and exit code 2.
#pragma once

#include <functional>

namespace rz::launch {

int start_command(int argc, char** argv);
// join_command.cc: an actor host joins a learner host (docs/scale-out.md).
int join_command(int argc, char** argv);
int stop_command(int argc, char** argv);
int status_command(int argc, char** argv);
int restart_learner_command(int argc, char** argv);
// Replaces this process by ringzero-monitor (beside ringzero-launch) with the same arguments.
int monitor_command(int argc, char** argv);

// Runs a command, turning an exception into a one-line "ringzero-launch: ..." message and
// an exit code: 2 for bad input (a UserError, common/error.h, such as UsageError, or a
// ConfigError), 1 for anything else (rz::run_main, common/error.h).
int run_command(const std::function<int()>& command);

}  // namespace rz::launch
