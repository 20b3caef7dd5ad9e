#include "models/llm/model/weight_matrix.h"

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "models/common/layers.h"
#include "models/llm/gguf/dequantize.h"
#include "models/llm/gguf/ggml_types.h"
#include "recsys/kernels/gemm.h"
#include "recsys/kernels/rows.h"

namespace recsys::llm {
namespace {

constexpr uint32_t kF32 = static_cast<uint32_t>(GgmlType::kF32);

// Rows per expanded panel. Each GEMM call packs x again, so at prefill a panel is wide: at
// least 256 rows (x's packing is then a small share of the panel's flops; 5.5 MiB of fp32 for
// a 5,632-wide row). At decode (a few rows of x, sgemv) a panel is small, for balance over the
// threads and to stay in L2.
int64_t PanelRows(int64_t m, int64_t rows, int64_t cols, int threads) {
  int64_t panel = m >= 32 ? std::max<int64_t>(256, (int64_t{2} << 20) / (cols * 4))
                          : std::max<int64_t>(16, (int64_t{256} << 10) / (cols * 4));
  panel = panel / 16 * 16;
  // At least four panels per thread where the matrix allows, so no thread idles at the end.
  const int64_t balanced = (rows + 4 * threads - 1) / (4 * threads);
  panel = std::min(panel, std::max<int64_t>(16, (balanced + 15) / 16 * 16));
  return std::min(panel, rows);
}

}  // namespace

absl::StatusOr<WeightMatrix> WeightMatrix::Load(const kernels::Device& device, uint32_t type,
                                                const uint8_t* data, int64_t rows, int64_t cols) {
  WeightMatrix w;
  w.type_ = type;
  w.rows_ = rows;
  w.cols_ = cols;
  RECSYS_ASSIGN_OR_RETURN(w.row_bytes_, GgmlRowBytes(type, cols));
  // Checks the type and the row's blocks once, so Apply's loops need not.
  std::vector<float> row(static_cast<size_t>(cols));
  if (rows > 0) RECSYS_RETURN_IF_ERROR(DequantizeRow(type, data, cols, row.data()));
  if (device.backend == kernels::Backend::kCpu) {
    w.data_ = data;
    return w;
  }
  std::vector<float> values(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r) {
    RECSYS_RETURN_IF_ERROR(
        DequantizeRow(type, data + r * w.row_bytes_, cols, values.data() + r * cols));
  }
  RECSYS_ASSIGN_OR_RETURN(w.expanded_, models::Weights::Place(device, std::move(values)));
  return w;
}

absl::Status WeightMatrix::Apply(const kernels::Device& device, const float* x, int64_t m,
                                 const float* bias, float* y) const {
  if (!in_place()) return models::Linear(device, x, m, cols_, expanded_.data(), bias, rows_, y);
  if (type_ == kF32 && reinterpret_cast<uintptr_t>(data_) % alignof(float) == 0) {
    return models::Linear(device, x, m, cols_, reinterpret_cast<const float*>(data_), bias, rows_,
                          y);
  }
  if (m == 0 || rows_ == 0) return absl::OkStatus();
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  const int64_t panel = PanelRows(m, rows_, cols_, threads);
  const int64_t panels = (rows_ + panel - 1) / panel;
  std::mutex mu;
  absl::Status failed;
#pragma omp parallel num_threads(threads)
  {
    // One panel buffer per thread for this call only: nothing stays allocated between calls
    // (a server runs forward passes on many threads).
    const std::unique_ptr<float[]> scratch(new float[static_cast<size_t>(panel * cols_)]);
#pragma omp for schedule(dynamic, 1)
    for (int64_t p = 0; p < panels; ++p) {
      const int64_t begin = p * panel, end = std::min(rows_, begin + panel);
      absl::Status s;
      for (int64_t r = begin; r < end && s.ok(); ++r) {
        s = DequantizeRow(type_, data_ + r * row_bytes_, cols_,
                          scratch.get() + (r - begin) * cols_);
      }
      if (s.ok()) {
        kernels::GemmParams g;
        g.m = m;
        g.n = end - begin;
        g.k = cols_;
        g.a = x;
        g.b = scratch.get();
        g.transpose_b = true;
        g.c = y + begin;
        g.ldc = rows_;
        s = kernels::Gemm(kernels::Device::Cpu(), g);
      }
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        failed.Update(s);
      }
    }
  }
  RECSYS_RETURN_IF_ERROR(failed);
  return bias == nullptr ? absl::OkStatus() : kernels::AddBias(device, y, bias, m, rows_);
}

absl::Status WeightMatrix::GatherRows(const kernels::Device& device, const int64_t* ids,
                                      const int64_t* ids_dev, int64_t n, float* y) const {
  if (!in_place())
    return models::GatherRowsOf(device, expanded_.data(), rows_, cols_, ids_dev, n, y);
  for (int64_t i = 0; i < n; ++i) {
    if (ids[i] < 0 || ids[i] >= rows_) {
      return absl::InvalidArgumentError(
          absl::StrCat("row ", ids[i], " is not one of the ", rows_, " rows"));
    }
    RECSYS_RETURN_IF_ERROR(DequantizeRow(type_, data_ + ids[i] * row_bytes_, cols_, y + i * cols_));
  }
  return absl::OkStatus();
}

}  // namespace recsys::llm
