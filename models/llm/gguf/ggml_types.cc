#include "models/llm/gguf/ggml_types.h"

#include "absl/strings/str_cat.h"

namespace recsys::llm {
namespace {

constexpr int64_t kQK = 256;  // elements of a K-quant super-block

struct Entry {
  uint32_t type;
  GgmlTypeInfo info;
};

// Sizes as in ggml-common.h (gguf-py's GGML_QUANT_SIZES lists the same).
constexpr Entry kTypes[] = {
    {0, {"F32", 1, 4, true}},
    {1, {"F16", 1, 2, true}},
    {2, {"Q4_0", 32, 2 + 16, true}},
    {3, {"Q4_1", 32, 2 + 2 + 16, false}},
    {6, {"Q5_0", 32, 2 + 4 + 16, true}},
    {7, {"Q5_1", 32, 2 + 2 + 4 + 16, false}},
    {8, {"Q8_0", 32, 2 + 32, true}},
    {9, {"Q8_1", 32, 4 + 4 + 32, false}},
    {10, {"Q2_K", kQK, 2 + 2 + kQK / 16 + kQK / 4, false}},
    {11, {"Q3_K", kQK, 2 + kQK / 4 + kQK / 8 + 12, false}},
    {12, {"Q4_K", kQK, 2 + 2 + kQK / 2 + 12, true}},
    {13, {"Q5_K", kQK, 2 + 2 + kQK / 2 + kQK / 8 + 12, false}},
    {14, {"Q6_K", kQK, 2 + kQK / 2 + kQK / 4 + kQK / 16, true}},
    {15, {"Q8_K", kQK, 4 + kQK + kQK / 8, false}},
    {16, {"IQ2_XXS", kQK, 2 + kQK / 4, false}},
    {17, {"IQ2_XS", kQK, 2 + kQK / 4 + kQK / 32, false}},
    {18, {"IQ3_XXS", kQK, 2 + kQK / 4 + kQK / 8, false}},
    {19, {"IQ1_S", kQK, 2 + kQK / 8 + kQK / 16, false}},
    {20, {"IQ4_NL", 32, 2 + 16, false}},
    {21, {"IQ3_S", kQK, 2 + kQK / 4 + kQK / 8 + kQK / 32 + 4, false}},
    {22, {"IQ2_S", kQK, 2 + kQK / 4 + kQK / 16, false}},
    {23, {"IQ4_XS", kQK, 2 + 2 + kQK / 2 + kQK / 64, false}},
    {24, {"I8", 1, 1, false}},
    {25, {"I16", 1, 2, false}},
    {26, {"I32", 1, 4, false}},
    {27, {"I64", 1, 8, false}},
    {28, {"F64", 1, 8, false}},
    {29, {"IQ1_M", kQK, kQK / 8 + kQK / 16 + kQK / 32, false}},
    {30, {"BF16", 1, 2, true}},
    {34, {"TQ1_0", kQK, 2 + 4 * 13, false}},
    {35, {"TQ2_0", kQK, 2 + 64, false}},
    {39, {"MXFP4", 32, 1 + 16, false}},
    {40, {"NVFP4", 64, 4 + 32, false}},
    {41, {"Q1_0", 128, 2 + 16, false}},
    {42, {"Q2_0", 64, 2 + 16, false}},
};

}  // namespace

const GgmlTypeInfo* FindGgmlType(uint32_t type) {
  for (const Entry& e : kTypes) {
    if (e.type == type) return &e.info;
  }
  return nullptr;
}

std::string GgmlTypeName(uint32_t type) {
  const GgmlTypeInfo* info = FindGgmlType(type);
  return info != nullptr ? info->name : absl::StrCat("type ", type);
}

absl::StatusOr<int64_t> GgmlRowBytes(uint32_t type, int64_t elems) {
  const GgmlTypeInfo* info = FindGgmlType(type);
  if (info == nullptr) return absl::InvalidArgumentError(absl::StrCat("unknown ggml type ", type));
  if (elems < 0 || elems % info->block_elems != 0) {
    return absl::InvalidArgumentError(absl::StrCat(elems, " elements of ", info->name,
                                                   " are not whole blocks of ", info->block_elems));
  }
  return elems / info->block_elems * info->block_bytes;
}

}  // namespace recsys::llm
