// The one place that decides whether CUDA code exists in this build.
#include "recsys/kernels/device.h"

#include <fstream>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"

#if defined(RECSYS_HAS_CUDA)
#include "kernels/cuda/cuda_devices.h"
#endif

namespace recsys::kernels {
namespace {

std::string CpuModelName() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (absl::StartsWith(line, "model name")) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) {
        return std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
      }
    }
  }
  return "unknown CPU";
}

}  // namespace

bool CudaBuilt() {
#if defined(RECSYS_HAS_CUDA)
  return true;
#else
  return false;
#endif
}

int CudaDeviceCount() {
#if defined(RECSYS_HAS_CUDA)
  return cuda::VisibleDeviceCount();
#else
  return 0;
#endif
}

std::vector<DeviceInfo> ListDevices() {
  std::vector<DeviceInfo> devices;
  devices.push_back(
      {"cpu", absl::StrCat(CpuModelName(), " (", std::thread::hardware_concurrency(), " threads)"),
       0});
#if defined(RECSYS_HAS_CUDA)
  for (DeviceInfo& d : cuda::VisibleDevices()) devices.push_back(std::move(d));
#endif
  return devices;
}

absl::StatusOr<Device> ParseDevice(absl::string_view name) {
  if (name == "cpu") return Device::Cpu();
  if (name == "auto") return DefaultDevice();
  absl::string_view ordinal = name;
  int value = 0;  // "cuda" alone is cuda:0
  if (name != "cuda" && (!absl::ConsumePrefix(&ordinal, "cuda:") ||
                         !absl::SimpleAtoi(ordinal, &value) || value < 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("device '", name, "' is not cpu, auto, cuda or cuda:<ordinal>"));
  }
  const Device device = Device::Cuda(value);
  const absl::Status usable = CheckDevice(device);
  if (!usable.ok()) return usable;
  return device;
}

}  // namespace recsys::kernels
