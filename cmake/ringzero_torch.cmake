# Finds LibTorch and defines the two targets ringzero links against, so that which process may
# map CUDA is decided here, by construction, and not by whichever libraries happen to be loaded:
#
#   ringzero_torch_cpu  LibTorch's CPU parts only (torch_cpu, c10). The network, and through it
#                       the actor, the evaluator, play and the benchmarks. A process linked
#                       against it never maps LibTorch's CUDA half, the driver, NCCL or cuDNN
#                       even when LibTorch has CUDA: actors are fork/exec'd by the supervisor
#                       and must never own a CUDA context. (The CUDA wheel's libtorch_cpu.so
#                       itself needs libcudart and libcupti, for its profiler: those two are
#                       mapped, and create no context unless called.)
#   ringzero_torch      all of LibTorch (torch_cuda, c10_cuda and the CUDA runtime when this
#                       LibTorch has them). The learner alone, the one process that owns the GPU.
#
# This file is the one place that knows LibTorch versions apart: the C++ code of ringzero
# compiles unchanged against both (the C++ API it uses did not change between them).
# Tested versions (README, Requirements; docs/libtorch.md):
#   1.13  Debian 12's libtorch-dev, CPU only; the default build in build/ (launch/setup.sh).
#         Its Caffe2 config may add to CMAKE_CXX_FLAGS (kept off our targets below); the
#         targets are torch, torch_cpu, torch_cpu_library, c10 (no torch_cuda).
#   2.15  the LibTorch inside the `torch` wheel (CUDA 13), build-cuda/ (launch/setup_cuda.sh).
#         TorchConfig needs the CUDA toolkit (nvcc) at configure time; the headers need C++20
#         and bundle fmt 12 (both handled below). Its libraries live in <site-packages>/torch/lib,
#         the CUDA ones (cudart, cuDNN, NCCL) in the nvidia-* wheels, found through the wheel's
#         own RPATH. CMAKE_PREFIX_PATH must name <site-packages>/torch itself, or TorchConfig's
#         find_library(c10) picks the system's libc10 (Debian's 1.13).
# Both put TORCH_CXX_FLAGS (-D_GLIBCXX_USE_CXX11_ABI=1) on the `torch` target only.

# Debian's TorchConfig adds flags to CMAKE_CXX_FLAGS; keep them off the torch-free targets.
set(_rz_saved_cxx_flags "${CMAKE_CXX_FLAGS}")
find_package(Torch REQUIRED)
set(CMAKE_CXX_FLAGS "${_rz_saved_cxx_flags}")

if(NOT TARGET torch_cpu_library OR NOT TARGET c10)
  message(FATAL_ERROR "ringzero: this LibTorch (${Torch_DIR}) defines no torch_cpu_library/c10 "
    "targets; use Debian's libtorch-dev 1.13 or the torch 2.x wheel (launch/setup_cuda.sh)")
endif()
# LibTorch 1.13 compiles as C++14/17; the 2.15 headers refuse anything older than C++20
# (ATen/ATen.h #errors). The whole build then moves to C++20, not just the torch translation
# units: one standard for all keeps every inline function and template identical (ODR).
if(EXISTS "${TORCH_INSTALL_PREFIX}/include/ATen/ATen.h")
  file(STRINGS "${TORCH_INSTALL_PREFIX}/include/ATen/ATen.h" _rz_needs_cxx20 REGEX "C\\+\\+20 or later")
  if(_rz_needs_cxx20)
    set(CMAKE_CXX_STANDARD 20)
  endif()
endif()

set(RINGZERO_TORCH_HAS_CUDA OFF)
if(TARGET torch_cuda)
  set(RINGZERO_TORCH_HAS_CUDA ON)
endif()
message(STATUS "ringzero: LibTorch ${Torch_VERSION} at ${TORCH_INSTALL_PREFIX}, CUDA ${RINGZERO_TORCH_HAS_CUDA}, C++${CMAKE_CXX_STANDARD}")

# TORCH_CXX_FLAGS carries the C++ ABI LibTorch was built with (-D_GLIBCXX_USE_CXX11_ABI=1 for
# both tested versions, GCC's own default, so torch-free translation units agree without it).
# Both versions attach it to the `torch` target only; ringzero_torch_cpu carries it too.
if(TORCH_CXX_FLAGS MATCHES "_GLIBCXX_USE_CXX11_ABI=0")
  message(FATAL_ERROR "ringzero: this LibTorch (${TORCH_INSTALL_PREFIX}) uses the pre-C++11 "
    "string ABI; use a cxx11-ABI build (Debian's libtorch-dev, or the torch 2.x wheel)")
endif()

add_library(ringzero_torch_cpu INTERFACE)
target_link_libraries(ringzero_torch_cpu INTERFACE torch_cpu_library c10)
target_compile_options(ringzero_torch_cpu INTERFACE ${TORCH_CXX_FLAGS})
# The C++ API's headers (torch/torch.h) are on the `torch` target only, in both versions.
target_include_directories(ringzero_torch_cpu SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})

# 2.x wheel: its include/ bundles fmt 12's headers, which would shadow the system fmt that
# ringzero links (Debian's libfmt 9: undefined fmt::v12 symbols at link time). A directory
# holding only a link to the system's fmt headers goes first (-I before LibTorch's -isystem).
if(EXISTS "${TORCH_INSTALL_PREFIX}/include/fmt")
  get_target_property(_rz_fmt_includes fmt::fmt INTERFACE_INCLUDE_DIRECTORIES)
  set(_rz_fmt_dir /usr/include/fmt)
  foreach(d ${_rz_fmt_includes})
    if(EXISTS "${d}/fmt/format.h")
      set(_rz_fmt_dir "${d}/fmt")
    endif()
  endforeach()
  file(MAKE_DIRECTORY "${CMAKE_BINARY_DIR}/system-fmt")
  file(CREATE_LINK "${_rz_fmt_dir}" "${CMAKE_BINARY_DIR}/system-fmt/fmt" SYMBOLIC)
  target_include_directories(ringzero_torch_cpu BEFORE INTERFACE "${CMAKE_BINARY_DIR}/system-fmt")
endif()

add_library(ringzero_torch INTERFACE)
target_link_libraries(ringzero_torch INTERFACE ringzero_torch_cpu)
# The learner's error for learner.device=cuda tells "this build has no CUDA" from "no usable GPU
# here": LibTorch cannot say (at::hasCUDA() is false in both cases once no GPU is found).
if(RINGZERO_TORCH_HAS_CUDA)
  target_compile_definitions(ringzero_torch INTERFACE RZ_TORCH_HAS_CUDA=1)
else()
  target_compile_definitions(ringzero_torch INTERFACE RZ_TORCH_HAS_CUDA=0)
endif()
# 2.x with CUDA: libtorch_cuda and libc10_cuda by file, kept even though no symbol of ours
# needs them (they register LibTorch's CUDA backend when loaded), and without their CMake
# interface: that adds the toolkit's libcudart and puts its lib/ (an older NCCL than the wheel's)
# first on the run path. The wheel's libraries find their own CUDA runtime, cuDNN and NCCL in
# the nvidia-* wheels through their RPATH.
if(TARGET torch_cuda AND TARGET c10_cuda)
  target_link_libraries(ringzero_torch INTERFACE
    "-Wl,--no-as-needed" "$<TARGET_FILE:torch_cuda>" "$<TARGET_FILE:c10_cuda>" "-Wl,--as-needed")
endif()
