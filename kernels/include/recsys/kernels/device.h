// Devices the kernel library can run on.
//
// The CPU is always available. CUDA devices are listed only when the library was built with
// CUDA (RECSYS_CUDA=AUTO|ON and nvcc found) and a driver reports devices at run time; with
// no GPU every op runs on the CPU path, never fails for lack of one.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "recsys/kernels/context.h"

namespace recsys::kernels {

struct DeviceInfo {
  // "cpu" or "cuda:<ordinal>".
  std::string name;
  // Human-readable model, e.g. "AMD EPYC 7B13 (2 threads)" or "NVIDIA H100 80GB HBM3 (sm_90)".
  std::string description;
  // Global memory of a CUDA device; 0 for the CPU.
  int64_t memory_bytes = 0;
};

// True when this binary contains the CUDA kernels.
bool CudaBuilt();

// Number of CUDA devices visible now; 0 without CUDA, driver or device.
int CudaDeviceCount();

// The CPU first, then each visible CUDA device in ordinal order.
std::vector<DeviceInfo> ListDevices();

// A device named on a command line: "cpu", "cuda:<ordinal>" ("cuda" = "cuda:0"), or "auto"
// (DefaultDevice(): cuda:0 when one is visible, else the CPU). INVALID_ARGUMENT for another
// name; FAILED_PRECONDITION (CheckDevice's reason) for a CUDA device this process cannot use.
absl::StatusOr<Device> ParseDevice(absl::string_view name);

}  // namespace recsys::kernels
