// One weight matrix of a decoder, [rows = out, cols = in] as torch.nn.Linear keeps it (ggml's
// [in, out]), and the two things the forward pass does with it: y = x W^T (+ b), and the rows
// of the token embedding.
//
// On the CPU the file's bytes are used in place, never copied: the model's resident memory is
// the mapped file's. F32 goes straight to the GEMM. Every other type (F16, BF16, Q8_0, Q4_0,
// Q5_0, Q4_K, Q6_K) is expanded panel by panel, a few hundred KiB per thread, just before the
// GEMM consumes the panel: at prefill that costs a few percent of the GEMM, at decode it reads
// the file's bytes instead of four per weight. On CUDA the matrix is expanded to fp32 on the
// device at load (4 bytes per weight).
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "models/common/device_tensor.h"
#include "recsys/kernels/context.h"

namespace recsys::llm {

class WeightMatrix {
 public:
  WeightMatrix() = default;

  // `data`: rows * GgmlRowBytes(type, cols) bytes of ggml type `type`, which must outlive the
  // matrix. Fails for a type the runtime does not read or a row of partial blocks.
  static absl::StatusOr<WeightMatrix> Load(const kernels::Device& device, uint32_t type,
                                           const uint8_t* data, int64_t rows, int64_t cols);

  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }
  uint32_t type() const { return type_; }
  bool in_place() const { return data_ != nullptr; }
  // Bytes the matrix holds: the file's (mapped, in place) or the device's fp32 copy.
  int64_t bytes() const { return in_place() ? rows_ * row_bytes_ : rows_ * cols_ * 4; }

  // y[m, rows] = x[m, cols] W^T (+ bias[rows] when not null); device pointers.
  absl::Status Apply(const kernels::Device& device, const float* x, int64_t m, const float* bias,
                     float* y) const;

  // y[n, cols] = the rows `ids` of W (ids on the host and, for CUDA, `ids_dev` on the device).
  absl::Status GatherRows(const kernels::Device& device, const int64_t* ids, const int64_t* ids_dev,
                          int64_t n, float* y) const;

 private:
  uint32_t type_ = 0;
  int64_t rows_ = 0, cols_ = 0, row_bytes_ = 0;
  const uint8_t* data_ = nullptr;  // in place (CPU)
  models::Weights expanded_;       // fp32 on the device (CUDA)
};

}  // namespace recsys::llm
