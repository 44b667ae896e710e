// ringzero-export: a checkpoint as a TorchScript module or an ONNX model, for use outside
// ringzero (docs/export.md). One line of output on success, one line on stderr and exit 1 on
// any error (exit 2 for a usage error, a rz::UserError). The file appears atomically, mode
// 0600.
#include <sys/stat.h>

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>

#include "common/error.h"
#include "common/export/export_info.h"
#include "common/export/onnx_model.h"
#include "common/export/torchscript_model.h"
#include "launch/run_dir.h"

namespace {

constexpr const char* kUsage =
    "usage: ringzero-export --checkpoint CKPT --format torchscript|onnx --out FILE";

// A bad command line: exit 2, with the usage line (common/error.h).
struct UsageError : rz::UserError {
  using rz::UserError::UserError;
};

std::map<std::string, std::string> parse(int argc, char** argv) {
  std::map<std::string, std::string> o;
  for (int i = 1; i < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::puts(kUsage);
      std::exit(0);
    }
    if (arg != "--checkpoint" && arg != "--format" && arg != "--out")
      throw UsageError(fmt::format("unknown argument '{}'", arg));
    if (i + 1 >= argc) throw UsageError(fmt::format("option '{}' needs a value", arg));
    if (!o.emplace(arg.substr(2), argv[i + 1]).second)
      throw UsageError(fmt::format("option '{}' given twice", arg));
  }
  for (const char* name : {"checkpoint", "format", "out"})
    if (!o.count(name)) throw UsageError(fmt::format("missing --{}", name));
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  ::umask(077);  // the exported network is the user's, like the run it came from
  return rz::run_main(
      "ringzero-export",
      [&] {
        const auto o = parse(argc, argv);
        const std::string& format = o.at("format");
        if (format != "torchscript" && format != "onnx")
          throw UsageError(fmt::format("unknown format '{}': choose torchscript or onnx", format));
        const rz::ExportedNetwork net = rz::read_exported_network(o.at("checkpoint"));
        const std::string bytes =
            format == "onnx" ? rz::onnx_model(net) : rz::torchscript_module(net);
        const std::string& out = o.at("out");
        try {
          rz::launch::write_text_atomically(out, bytes);
        } catch (const std::exception& e) {
          throw std::runtime_error(fmt::format("{}: pass a writable --out path", e.what()));
        }
        fmt::print("wrote {} ({} {}, step {}, weight version {}, {} bytes)\n", out, net.game_spec,
                   net.config.shape_string(), net.step, net.weight_version, bytes.size());
        return 0;
      },
      kUsage);
}
