// ArgCursor: the walk over argv that the hand-written option parsers share (the small
// ringzero-launch subcommands, ringzero-monitor). "--name VALUE" and "--name=VALUE" read
// alike; what a parser accepts stays in the parser, as a plain if/else over name().
//
//   for (ArgCursor arg(argc, argv); arg.next();) {
//     if (arg.name() == "--run-dir") run_dir = arg.value();
//     else throw UserError("unknown argument '" + arg.raw() + "'");
//   }
#pragma once

#include <string>

#include "common/error.h"

namespace rz {

class ArgCursor {
 public:
  // Walks argv[first], ..., argv[argc - 1].
  ArgCursor(int argc, char** argv, int first = 0) : argc_(argc), argv_(argv), i_(first - 1) {}

  // Moves to the next argument; false when there is none left.
  bool next() {
    if (++i_ >= argc_) return false;
    raw_ = argv_[i_];
    name_ = raw_;
    has_value_ = false;
    if (const auto eq = raw_.find('='); raw_.rfind("--", 0) == 0 && eq != std::string::npos) {
      value_ = raw_.substr(eq + 1);
      name_ = raw_.substr(0, eq);
      has_value_ = true;
    }
    return true;
  }

  // The argument as given, and without its "=VALUE" part.
  const std::string& raw() const { return raw_; }
  const std::string& name() const { return name_; }

  // The option's value: what followed '=', else the next argument (consumed). Throws
  // UserError "<name> needs a value" when there is neither.
  std::string value() {
    if (has_value_) return value_;
    if (i_ + 1 >= argc_) throw UserError(name_ + " needs a value");
    return argv_[++i_];
  }

 private:
  int argc_;
  char** argv_;
  int i_;
  std::string raw_, name_, value_;
  bool has_value_ = false;
};

}  // namespace rz
