#include "models/llm/model/llm_model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "models/llm/gguf/dequantize.h"
#include "models/llm/gguf/ggml_types.h"
#include "tests/models/llm/gguf_builder.h"
#include "tests/models/llm/llm_fixtures.h"
#include "tests/testing/shared_data.h"
#include "tests/testing/temp_dir.h"

namespace recsys::llm {
namespace {

using ::testing::HasSubstr;

using fixtures::FixtureDir;
using fixtures::ScaledError;
using fixtures::TensorFloats;

class ReferenceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (FixtureDir().empty() ||
        !std::filesystem::exists(FixtureDir() + "/" + GetParam() + ".gguf")) {
      GTEST_SKIP() << "no reference fixtures (llm_reference_fixtures needs gguf-py: "
                      "scripts/install-llama-cpp.sh)";
    }
    auto model = LlmModel::Load(FixtureDir() + "/" + GetParam() + ".gguf", kernels::Device::Cpu());
    ASSERT_TRUE(model.ok()) << model.status();
    model_ = std::move(*model);
    auto golden = GgufFile::Open(FixtureDir() + "/" + GetParam() + ".golden.gguf");
    ASSERT_TRUE(golden.ok()) << golden.status();
    golden_ = std::move(*golden);
    for (float id : TensorFloats(*golden_, "ids")) ids_.push_back(static_cast<int32_t>(id));
  }

  int64_t n() const { return static_cast<int64_t>(ids_.size()); }
  std::vector<int64_t> All() const {
    std::vector<int64_t> at(n());
    for (int64_t i = 0; i < n(); ++i) at[i] = i;
    return at;
  }

  std::unique_ptr<LlmModel> model_;
  std::unique_ptr<GgufFile> golden_;
  std::vector<int32_t> ids_;
};

// Logits, final hidden states and attention mass against the PyTorch reference run on the
// weights as the file holds them (so the tolerance is the same for every type).
TEST_P(ReferenceTest, MatchesThePyTorchReference) {
  auto cache = model_->NewCache(n());
  ASSERT_TRUE(cache.ok());
  LlmInput in;
  in.tokens = ids_;
  LlmOutputs out;
  out.logits_at = All();
  out.hidden_at = All();
  out.mass_begin = *golden_->GetInt("golden.mass.q_begin");
  out.mass_end = *golden_->GetInt("golden.mass.q_end");
  out.mass_layers = *golden_->GetInts("golden.mass.layers");
  auto r = model_->Forward(in, out, &*cache);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(cache->length(), n());
  EXPECT_LT(ScaledError(r->logits, TensorFloats(*golden_, "logits")), 2e-5);
  EXPECT_LT(ScaledError(r->hidden, TensorFloats(*golden_, "hidden")), 2e-5);
  const std::vector<float> mass = TensorFloats(*golden_, "mass");
  EXPECT_LT(ScaledError(r->mass, mass), 2e-5);
  double total = 0;  // heads x layers, each row a distribution
  for (float m : r->mass) total += m;
  EXPECT_NEAR(total, model_->config().heads * out.mass_layers.size(), 1e-3);
}

// A prefix run once, then two different tails on copies of its cache, and token-by-token
// decoding: the same logits as one pass over each whole sequence.
TEST_P(ReferenceTest, PrefixReuseAndIncrementalDecodingMatchOnePass) {
  const int64_t prefix = 10;
  auto full = model_->NewCache(n());
  LlmInput all;
  all.tokens = ids_;
  LlmOutputs every;
  every.logits_at = All();
  auto whole = model_->Forward(all, every, &*full);
  ASSERT_TRUE(whole.ok()) << whole.status();
  const int64_t vocab = model_->config().vocab_size;

  auto base = model_->NewCache(prefix);
  LlmInput head;
  head.tokens.assign(ids_.begin(), ids_.begin() + prefix);
  ASSERT_TRUE(model_->Forward(head, {}, &*base).ok());
  EXPECT_EQ(base->length(), prefix);
  for (int round = 0; round < 2; ++round) {
    auto copy = base->Clone(n());
    ASSERT_TRUE(copy.ok()) << copy.status();
    LlmInput tail;
    tail.tokens.assign(ids_.begin() + prefix, ids_.end());
    if (round == 1) tail.tokens.back() = 5;  // a different tail on the same prefix
    LlmOutputs last;
    last.logits_at = {0, static_cast<int64_t>(tail.tokens.size()) - 2};
    auto r = model_->Forward(tail, last, &*copy);
    ASSERT_TRUE(r.ok()) << r.status();
    for (size_t i = 0; i < last.logits_at.size(); ++i) {
      const int64_t at = prefix + last.logits_at[i];
      const std::vector<float> want(whole->logits.begin() + at * vocab,
                                    whole->logits.begin() + (at + 1) * vocab);
      const std::vector<float> got(r->logits.begin() + i * vocab,
                                   r->logits.begin() + (i + 1) * vocab);
      EXPECT_LT(ScaledError(got, want), 1e-5) << "round " << round << " position " << at;
    }
  }
  EXPECT_EQ(base->length(), prefix);  // the prefix cache is untouched

  auto step = model_->NewCache(n());
  for (int64_t i = 0; i < n(); ++i) {
    LlmInput one;
    one.tokens = {ids_[i]};
    LlmOutputs o;
    o.logits_at = {0};
    auto r = model_->Forward(one, o, &*step);
    ASSERT_TRUE(r.ok()) << r.status();
    const std::vector<float> want(whole->logits.begin() + i * vocab,
                                  whole->logits.begin() + (i + 1) * vocab);
    EXPECT_LT(ScaledError(r->logits, want), 1e-5) << "position " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Families, ReferenceTest,
                         ::testing::Values("llama3-f32", "llama3-f16", "llama3-q8_0", "llama3-q4_k",
                                           "llama3-q4_k_m", "mistral-f32", "mistral-f16",
                                           "mistral-q8_0", "mistral-q4_k", "qwen2-f32", "qwen2-f16",
                                           "qwen2-q8_0", "qwen2-q4_k"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) c = c == '-' ? '_' : c;
                           return name;
                         });

// The project's own export (config.json, model.safetensors, tokenizer.gguf) of the same
// weights loads through the same interface and gives the f32 file's reference outputs.
TEST(LlmExportTest, TheProjectsExportMatchesTheReferenceLikeItsGguf) {
  for (const std::string family : {"llama3", "mistral", "qwen2"}) {
    SCOPED_TRACE(family);
    const std::string dir = FixtureDir() + "/" + family + "-export";
    if (FixtureDir().empty() || !std::filesystem::exists(dir)) GTEST_SKIP() << "no fixtures";
    auto model = LlmModel::Load(dir, kernels::Device::Cpu());
    ASSERT_TRUE(model.ok()) << model.status();
    EXPECT_FALSE((*model)->config().rope_interleaved);
    auto golden = GgufFile::Open(FixtureDir() + "/" + family + "-f32.golden.gguf");
    ASSERT_TRUE(golden.ok());
    LlmInput in;
    for (float id : TensorFloats(**golden, "ids")) in.tokens.push_back(static_cast<int32_t>(id));
    const int64_t n = static_cast<int64_t>(in.tokens.size());
    auto cache = (*model)->NewCache(n);
    LlmOutputs out;
    for (int64_t i = 0; i < n; ++i) out.logits_at.push_back(i);
    auto r = (*model)->Forward(in, out, &*cache);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_LT(ScaledError(r->logits, TensorFloats(**golden, "logits")), 2e-5);
  }
}

class LlmBehaviourTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string path = FixtureDir() + "/qwen2-f32.gguf";
    if (FixtureDir().empty() || !std::filesystem::exists(path)) GTEST_SKIP() << "no fixtures";
    auto model = LlmModel::Load(path, kernels::Device::Cpu());
    ASSERT_TRUE(model.ok()) << model.status();
    model_ = std::move(*model);
    auto file = GgufFile::Open(path);
    ASSERT_TRUE(file.ok());
    embed_ = TensorFloats(**file, "token_embd.weight");
  }
  std::unique_ptr<LlmModel> model_;
  std::vector<float> embed_;
};

TEST_F(LlmBehaviourTest, CallerVectorsStandInForTokens) {
  const int64_t hidden = model_->config().hidden, vocab = model_->config().vocab_size;
  const std::vector<int32_t> ids = {1, 260, 270, 280, 290};
  auto a = model_->NewCache(8), b = model_->NewCache(8);
  LlmInput tokens;
  tokens.tokens = ids;
  LlmInput vectors = tokens;
  vectors.tokens[2] = vectors.tokens[3] = -1;  // the embeddings of 270 and 280, given
  for (int32_t id : {270, 280}) {
    vectors.vectors.insert(vectors.vectors.end(), embed_.begin() + id * hidden,
                           embed_.begin() + (id + 1) * hidden);
  }
  LlmOutputs o;
  o.logits_at = {4};
  auto ra = model_->Forward(tokens, o, &*a);
  auto rb = model_->Forward(vectors, o, &*b);
  ASSERT_TRUE(ra.ok() && rb.ok()) << rb.status();
  ASSERT_EQ(rb->logits.size(), static_cast<size_t>(vocab));
  EXPECT_EQ(ra->logits, rb->logits);
}

TEST_F(LlmBehaviourTest, SetMaskHidesASetsMembersFromEachOther) {
  // [p0 p1 a b] with a and b in one set: b sees p0, p1 and itself, as in [p0 p1 b] with b at
  // rope position 3.
  const int64_t vocab = model_->config().vocab_size;
  auto c1 = model_->NewCache(4), c2 = model_->NewCache(4);
  LlmInput sets;
  sets.tokens = {1, 261, 262, 263};
  sets.mask = kernels::AttentionMask::kCausalSets;
  sets.set_ids = {-1, -1, 0, 0};
  LlmOutputs o;
  o.logits_at = {3};
  auto r1 = model_->Forward(sets, o, &*c1);
  ASSERT_TRUE(r1.ok()) << r1.status();
  LlmInput alone;
  alone.tokens = {1, 261, 263};
  alone.positions = {0, 1, 3};
  o.logits_at = {2};
  auto r2 = model_->Forward(alone, o, &*c2);
  ASSERT_TRUE(r2.ok());
  EXPECT_LT(ScaledError(r1->logits, r2->logits), 1e-5);
  ASSERT_EQ(r1->logits.size(), static_cast<size_t>(vocab));
}

TEST_F(LlmBehaviourTest, MassOnlyStopsAfterTheLastChosenLayer) {
  auto c = model_->NewCache(8);
  LlmInput in;
  in.tokens = {1, 260, 261, 262, 263, 264};
  LlmOutputs o;
  o.mass_begin = 4;
  o.mass_end = 6;
  o.mass_layers = {0};
  auto r = model_->Forward(in, o, &*c);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->layers_run, 1);
  EXPECT_EQ(r->mass.size(), 6u);
  EXPECT_EQ(c->length(), 0);  // not every layer ran: nothing cached
  EXPECT_TRUE(r->logits.empty());
}

TEST_F(LlmBehaviourTest, BadInputGetsAStatusNamingTheField) {
  auto c = model_->NewCache(4);
  LlmInput in;
  in.tokens = {1, 99999};
  absl::Status s = model_->Forward(in, {}, &*c).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("tokens[1] = 99999"));
  in.tokens = {1, 2, 3, 4, 5};
  EXPECT_EQ(model_->Forward(in, {}, &*c).status().code(), absl::StatusCode::kResourceExhausted);
  in.tokens = {1, -1};
  EXPECT_THAT(std::string(model_->Forward(in, {}, &*c).status().message()), HasSubstr("vectors"));
  in.tokens = {1, 2};
  LlmOutputs o;
  o.logits_at = {2};
  EXPECT_THAT(std::string(model_->Forward(in, o, &*c).status().message()),
              HasSubstr("logits_at[0]"));
  o = {};
  o.mass_end = 2;
  o.mass_layers = {7};
  EXPECT_THAT(std::string(model_->Forward(in, o, &*c).status().message()),
              HasSubstr("mass_layers[0]"));
  LlmControl past;
  past.deadline = absl::Now() - absl::Seconds(1);
  EXPECT_EQ(model_->Forward(in, {}, &*c, past).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  LlmControl cancel;
  cancel.cancelled = [] { return true; };
  EXPECT_EQ(model_->Forward(in, {}, &*c, cancel).status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(c->length(), 0);
}

// One loaded model serves several calls at once, each on its own cache (the services' use).
TEST_F(LlmBehaviourTest, ConcurrentCallsOnOneModelGiveTheSingleCallResults) {
  LlmInput in;
  in.tokens = {1, 260, 270, 280, 290, 12, 30};
  LlmOutputs out;
  out.logits_at = {6};
  out.mass_begin = 4;
  out.mass_end = 7;
  out.mass_layers = {0, 1};
  auto alone_cache = model_->NewCache(8);
  auto alone = model_->Forward(in, out, &*alone_cache);
  ASSERT_TRUE(alone.ok()) << alone.status();
  std::vector<std::thread> threads;
  std::vector<int> same(8, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 5; ++round) {
        auto cache = model_->NewCache(8);
        if (!cache.ok()) return;
        auto r = model_->Forward(in, out, &*cache);
        // Thread counts per call differ under load; results agree to rounding.
        if (r.ok() && ScaledError(r->logits, alone->logits) < 1e-6 &&
            ScaledError(r->mass, alone->mass) < 1e-6) {
          ++same[t];
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_THAT(same, ::testing::Each(5));
}

TEST_F(LlmBehaviourTest, GreedyGenerationIsTheArgmaxChain) {
  const std::vector<int32_t> prompt = {1, 260, 270};
  auto gen = model_->Generate(prompt, 4);
  ASSERT_TRUE(gen.ok()) << gen.status();
  ASSERT_FALSE(gen->empty());
  // The first token is the argmax of the prompt's last logits.
  auto c = model_->NewCache(3);
  LlmInput in;
  in.tokens = prompt;
  LlmOutputs o;
  o.logits_at = {2};
  auto r = model_->Forward(in, o, &*c);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*gen)[0], std::max_element(r->logits.begin(), r->logits.end()) - r->logits.begin());
}

// Real weights: stories260K (Llama-2 architecture, llama2.c), converted by the project's
// converter, reproduces llama2.c's greedy output from BOS token for token (256 tokens).
TEST(Stories260KTest, ReproducesLlama2cGreedyOutput) {
  const std::string path = FixtureDir() + "/stories260K.gguf";
  const std::string golden =
      recsys::testing::SharedDataPath("llm-stories260K/golden_greedy_dequant_f32_256.ids.txt");
  if (!std::filesystem::exists(path) || golden.empty()) {
    GTEST_SKIP() << "shared/data/llm-stories260K is absent (or gguf-py, to convert it)";
  }
  auto model = LlmModel::Load(path, kernels::Device::Cpu());
  ASSERT_TRUE(model.ok()) << model.status();
  std::vector<int32_t> want;
  std::ifstream in(golden);
  for (int32_t id; in >> id;) want.push_back(id);
  ASSERT_EQ(want.size(), 256u);
  // llama2.c stops at BOS, not EOS: generate the same number of tokens and compare them all.
  auto got = (*model)->Generate({1}, 256);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, want);
  const std::string text = (*model)->tokenizer().Decode(*got);
  EXPECT_THAT(text, ::testing::StartsWith(
                        "Once upon a time, there was a little girl named Lily. She loved to play "
                        "outside in the park."));
  std::ifstream text_file(
      recsys::testing::SharedDataPath("llm-stories260K/golden_greedy_dequant_f32_256.txt"));
  const std::string want_text((std::istreambuf_iterator<char>(text_file)),
                              std::istreambuf_iterator<char>());
  EXPECT_EQ(std::string(absl::StripTrailingAsciiWhitespace(text)),
            std::string(absl::StripTrailingAsciiWhitespace(want_text)));
}

// A small model file, built here, broken in one way at a time.
std::string TinyModel(const std::function<void(testing::GgufBuilder&)>& tweak,
                      const std::string& arch = "llama", int64_t q_rows = 8,
                      uint32_t ffn_norm_type = 0, uint32_t block_count = 1) {
  testing::GgufBuilder b;
  b.String("general.architecture", arch)
      .U32(arch + ".block_count", block_count)
      .U32(arch + ".embedding_length", 8)
      .U32(arch + ".feed_forward_length", 16)
      .U32(arch + ".attention.head_count", 2)
      .U32(arch + ".attention.head_count_kv", 1)
      .String("tokenizer.ggml.model", "llama")
      .Strings("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "a"});
  tweak(b);
  auto f32 = [&](const std::string& name, std::vector<int64_t> dims) {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    b.F32Tensor(name, dims, std::vector<float>(n, 0.01f));
  };
  f32("token_embd.weight", {8, 4});
  f32("output_norm.weight", {8});
  f32("blk.0.attn_norm.weight", {8});
  f32("blk.0.attn_q.weight", {8, q_rows});
  f32("blk.0.attn_k.weight", {8, 4});
  f32("blk.0.attn_v.weight", {8, 4});
  f32("blk.0.attn_output.weight", {8, 8});
  if (ffn_norm_type == 0) {
    f32("blk.0.ffn_norm.weight", {8});
  } else {  // 8 one-byte elements of another type
    b.AddTensor({"blk.0.ffn_norm.weight", {8}, ffn_norm_type, std::string(8, '\1')});
  }
  f32("blk.0.ffn_gate.weight", {8, 16});
  f32("blk.0.ffn_up.weight", {8, 16});
  f32("blk.0.ffn_down.weight", {16, 8});
  return b.Build();
}

TEST(LlmLoadTest, BrokenModelFilesGetAStatusNamingTheKeyOrTensor) {
  recsys::testing::TempDir dir;
  auto load = [&](const std::string& bytes) {
    const std::string path = dir.File("m.gguf");
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
    return LlmModel::Load(path, kernels::Device::Cpu()).status();
  };
  EXPECT_TRUE(load(TinyModel([](auto&) {})).ok()) << load(TinyModel([](auto&) {}));
  absl::Status s = load(TinyModel([](auto&) {}, "llama", 6));
  EXPECT_THAT(
      std::string(s.message()),
      HasSubstr("tensor 'blk.0.attn_q.weight' is [8, 6]; the hyper-parameters make it [8, 8]"));
  s = load(TinyModel([](auto&) {}, "gpt-neox"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("architecture 'gpt-neox' is not run"));
  s = load(TinyModel([](auto& b) { b.U32("llama.attention.head_count_kv", 2); }));
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);  // a key twice
  s = load(TinyModel([](auto& b) { b.String("tokenizer.ggml.pre", "x"); }));
  EXPECT_TRUE(s.ok());  // a SentencePiece vocabulary has no pre-tokenizer to refuse
  s = load(TinyModel([](auto&) {}, "llama", 8, 0, /*block_count=*/1000000));
  EXPECT_THAT(std::string(s.message()), HasSubstr("blk.999999.attn_norm.weight' is missing"));
  // A type the runtime does not read is refused before a buffer is sized for it.
  s = load(TinyModel([](auto&) {}, "llama", 8, /*ffn_norm_type=I8*/ 24));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("tensor 'blk.0.ffn_norm.weight' is I8, a type the runtime does not read"));
}

TEST(LlmLoadTest, HugeCachesAndGenerationLengthsAreRefused) {
  recsys::testing::TempDir dir;
  const std::string path = dir.File("m.gguf");
  std::ofstream(path, std::ios::binary) << TinyModel([](auto&) {});
  auto model = LlmModel::Load(path, kernels::Device::Cpu());
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->NewCache(int64_t{1} << 60).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ((*model)->Generate({1}, int64_t{1} << 54).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace recsys::llm
