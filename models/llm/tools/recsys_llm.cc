// recsys-llm: look into and run a GGUF model with the project's LLM runtime.
//   recsys-llm inspect FILE            architecture, shapes, tensor types, tokenizer, metadata
//   recsys-llm tokenize FILE --text=T  token ids and pieces
//   recsys-llm generate FILE (--prompt=T | --ids=1,2,3) [--max_new=N]   greedy continuation
//   recsys-llm bench FILE [--prompt_tokens=N] [--decode_tokens=N]  prefill / decode tokens/s
//   recsys-llm probs FILE --ids=1,2,3  the next token's probabilities (softmax of the logits),
//                                      one "id probability" line each, most likely first
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "models/llm/gguf/ggml_types.h"
#include "models/llm/gguf/gguf_file.h"
#include "models/llm/model/llm_model.h"
#include "models/llm/tokenizer/tokenizer.h"
#include "recsys/kernels/device.h"

ABSL_FLAG(std::string, text, "", "tokenize: the text.");
ABSL_FLAG(std::string, prompt, "", "generate: the prompt text (BOS added as the vocabulary asks).");
ABSL_FLAG(std::string, ids, "", "generate: the prompt as comma-separated token ids.");
ABSL_FLAG(int64_t, max_new, 32, "generate: most new tokens.");
ABSL_FLAG(bool, parse_special, false, "tokenize, generate: control tokens written in the text.");
ABSL_FLAG(int64_t, prompt_tokens, 512, "bench: prefill length.");
ABSL_FLAG(int64_t, decode_tokens, 32, "bench: tokens decoded one at a time after the prefill.");
ABSL_FLAG(int32_t, repeat, 3, "bench: runs (the best is reported).");
ABSL_FLAG(int64_t, mass_tokens, 32,
          "bench: also time the prefill asked for the attention mass of its last N positions "
          "over every layer (ICR's first pass); 0 skips it.");
ABSL_FLAG(std::string, device, "cpu", "cpu, cuda:N or auto.");

namespace {

using recsys::llm::GgufFile;
using recsys::llm::LlmModel;

int Fail(const absl::Status& s) {
  std::cerr << "recsys-llm: " << s << "\n";
  return 1;
}

int Inspect(const std::string& path) {
  auto file = GgufFile::Open(path);
  if (!file.ok()) return Fail(file.status());
  const GgufFile& f = **file;
  std::cout << "file " << path << ": GGUF v" << f.version() << ", " << f.size() << " bytes, "
            << f.keys().size() << " keys, " << f.tensors().size() << " tensors\n";
  auto config = recsys::llm::LlmConfig::FromGguf(f);
  if (config.ok()) {
    const auto& c = *config;
    std::cout << absl::StrFormat(
        "model %s: %d layers, hidden %d, ffn %d, heads %d (kv %d, head %d), vocab %d, "
        "context %d, rope theta %g%s, rms eps %g, %s output\n",
        c.arch_name, c.layers, c.hidden, c.intermediate, c.heads, c.kv_heads, c.head_dim,
        c.vocab_size, c.context_length, c.rope_theta, c.rope_freq_factors ? " (freq factors)" : "",
        c.rms_eps, c.tied_output ? "tied" : "separate");
  } else {
    std::cout << "model: " << config.status().message() << "\n";
  }
  auto tokenizer = recsys::llm::Tokenizer::FromGguf(f);
  if (tokenizer.ok()) {
    const auto& v = (*tokenizer)->vocab();
    std::cout << absl::StrFormat(
        "tokenizer %s%s: %d tokens, %d merges, bos %d, eos %d, eot %d\n",
        v.kind == recsys::llm::VocabKind::kSentencePiece ? "SentencePiece" : "byte-level BPE",
        v.pre_name.empty() ? "" : " (" + v.pre_name + ")", v.size(), v.merge_ranks.size(), v.bos,
        v.eos, v.eot);
  } else {
    std::cout << "tokenizer: " << tokenizer.status().message() << "\n";
  }
  std::map<std::string, std::pair<int64_t, int64_t>> types;  // count, bytes
  for (const auto& t : f.tensors()) {
    auto& e = types[recsys::llm::GgmlTypeName(t.type)];
    ++e.first;
    e.second += t.bytes;
  }
  std::cout << "tensor types:";
  for (const auto& [name, e] : types) {
    std::cout << absl::StrFormat(" %s x%d (%.1f MiB)", name, e.first, e.second / 1048576.0);
  }
  std::cout << "\nmetadata:\n";
  for (absl::string_view key : f.keys()) {
    std::cout << "  " << key << " = " << f.Describe(*f.Find(key)) << "\n";
  }
  std::cout << "tensors:\n";
  for (const auto& t : f.tensors()) {
    std::cout << "  " << t.name << " " << recsys::llm::GgmlTypeName(t.type) << " ["
              << absl::StrJoin(t.dims, ", ") << "]\n";
  }
  return 0;
}

int Tokenize(const std::string& path) {
  auto file = GgufFile::Open(path);
  if (!file.ok()) return Fail(file.status());
  auto t = recsys::llm::Tokenizer::FromGguf(**file);
  if (!t.ok()) return Fail(t.status());
  const auto ids =
      (*t)->Encode(absl::GetFlag(FLAGS_text), false, absl::GetFlag(FLAGS_parse_special));
  std::cout << absl::StrJoin(ids, " ") << "\n";
  for (int32_t id : ids) {
    std::cout << absl::StrFormat("%8d  '%s'\n", id, (*t)->vocab().tokens[id]);
  }
  return 0;
}

absl::StatusOr<std::unique_ptr<LlmModel>> LoadModel(const std::string& path) {
  auto device = recsys::kernels::ParseDevice(absl::GetFlag(FLAGS_device));
  if (!device.ok()) return device.status();
  return LlmModel::Load(path, *device);
}

std::vector<int32_t> IdsFlag() {
  std::vector<int32_t> ids;
  for (absl::string_view s : absl::StrSplit(absl::GetFlag(FLAGS_ids), ',', absl::SkipEmpty())) {
    int32_t id = 0;
    if (!absl::SimpleAtoi(s, &id)) return {};
    ids.push_back(id);
  }
  return ids;
}

int Generate(const std::string& path) {
  auto model = LoadModel(path);
  if (!model.ok()) return Fail(model.status());
  const LlmModel& m = **model;
  std::vector<int32_t> prompt;
  if (!absl::GetFlag(FLAGS_ids).empty()) {
    prompt = IdsFlag();
    if (prompt.empty()) return Fail(absl::InvalidArgumentError("--ids: not integers"));
  } else {
    prompt =
        m.tokenizer().Encode(absl::GetFlag(FLAGS_prompt), true, absl::GetFlag(FLAGS_parse_special));
  }
  const absl::Time start = absl::Now();
  auto out = m.Generate(prompt, absl::GetFlag(FLAGS_max_new));
  if (!out.ok()) return Fail(out.status());
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::cout << "prompt ids: " << absl::StrJoin(prompt, ",") << "\n";
  std::cout << "new ids: " << absl::StrJoin(*out, ",") << "\n";
  std::cout << "text: " << m.tokenizer().Decode(*out) << "\n";
  std::cerr << absl::StrFormat("%d prompt + %d new tokens in %.3f s\n", prompt.size(), out->size(),
                               seconds);
  return 0;
}

int Probs(const std::string& path) {
  auto model = LoadModel(path);
  if (!model.ok()) return Fail(model.status());
  const std::vector<int32_t> ids = IdsFlag();
  if (ids.empty()) return Fail(absl::InvalidArgumentError("--ids: comma-separated token ids"));
  auto cache = (*model)->NewCache(static_cast<int64_t>(ids.size()));
  if (!cache.ok()) return Fail(cache.status());
  recsys::llm::LlmInput in;
  in.tokens = ids;
  recsys::llm::LlmOutputs out;
  out.logits_at = {static_cast<int64_t>(ids.size()) - 1};
  auto r = (*model)->Forward(in, out, &*cache);
  if (!r.ok()) return Fail(r.status());
  const std::vector<float>& z = r->logits;
  const float top = *std::max_element(z.begin(), z.end());
  double sum = 0;
  for (float v : z) sum += std::exp(static_cast<double>(v - top));
  std::vector<std::pair<double, int32_t>> p;
  for (size_t i = 0; i < z.size(); ++i) {
    p.emplace_back(std::exp(static_cast<double>(z[i] - top)) / sum, static_cast<int32_t>(i));
  }
  std::sort(p.rbegin(), p.rend());
  for (const auto& [prob, id] : p) std::cout << id << " " << absl::StrFormat("%.9g", prob) << "\n";
  return 0;
}

int Bench(const std::string& path) {
  auto model = LoadModel(path);
  if (!model.ok()) return Fail(model.status());
  const LlmModel& m = **model;
  const int64_t n = absl::GetFlag(FLAGS_prompt_tokens), decode = absl::GetFlag(FLAGS_decode_tokens);
  std::vector<int32_t> prompt(n);
  for (int64_t i = 0; i < n; ++i)
    prompt[i] = static_cast<int32_t>((i * 7919 + 11) % m.config().vocab_size);
  double best_prefill = 1e30, best_decode = 1e30, best_mass = 1e30;
  for (int r = 0; r < absl::GetFlag(FLAGS_repeat); ++r) {
    auto cache = m.NewCache(n + decode);
    if (!cache.ok()) return Fail(cache.status());
    recsys::llm::LlmInput in;
    in.tokens = prompt;
    recsys::llm::LlmOutputs out;
    out.logits_at = {n - 1};
    absl::Time t0 = absl::Now();
    auto pre = m.Forward(in, out, &*cache);
    if (!pre.ok()) return Fail(pre.status());
    best_prefill = std::min(best_prefill, absl::ToDoubleSeconds(absl::Now() - t0));
    t0 = absl::Now();
    for (int64_t i = 0; i < decode; ++i) {
      in.tokens = {static_cast<int32_t>((i * 31 + 7) % m.config().vocab_size)};
      out.logits_at = {0};
      auto step = m.Forward(in, out, &*cache);
      if (!step.ok()) return Fail(step.status());
    }
    if (decode > 0) best_decode = std::min(best_decode, absl::ToDoubleSeconds(absl::Now() - t0));
    const int64_t span = std::min(absl::GetFlag(FLAGS_mass_tokens), n);
    if (span > 0) {
      auto again = m.NewCache(n);
      if (!again.ok()) return Fail(again.status());
      recsys::llm::LlmInput all;
      all.tokens = prompt;
      recsys::llm::LlmOutputs mass;
      mass.logits_at = {n - 1};
      mass.mass_begin = n - span;
      mass.mass_end = n;
      for (int64_t l = 0; l < m.config().layers; ++l) mass.mass_layers.push_back(l);
      t0 = absl::Now();
      auto r = m.Forward(all, mass, &*again);
      if (!r.ok()) return Fail(r.status());
      best_mass = std::min(best_mass, absl::ToDoubleSeconds(absl::Now() - t0));
    }
  }
  std::cout << absl::StrFormat("prefill %d tokens: %.1f tokens/s (%.3f s)\n", n, n / best_prefill,
                               best_prefill);
  if (decode > 0) {
    std::cout << absl::StrFormat("decode %d tokens: %.1f tokens/s\n", decode, decode / best_decode);
  }
  if (best_mass < 1e30) {
    std::cout << absl::StrFormat(
        "prefill with the attention mass of the last %d positions over all %d layers: %.3f s, "
        "%.2fx the plain prefill\n",
        std::min(absl::GetFlag(FLAGS_mass_tokens), n), m.config().layers, best_mass,
        best_mass / best_prefill);
  }
  std::cout << absl::StrFormat("weights %.1f MiB in place (mapped), %.1f MiB expanded to fp32\n",
                               m.mapped_weight_bytes() / 1048576.0,
                               m.expanded_weight_bytes() / 1048576.0);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "recsys-llm inspect|tokenize|generate|bench|probs FILE.gguf [flags]: the project's LLM "
      "runtime");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() != 3) {
    std::cerr << absl::ProgramUsageMessage() << "\n";
    return 2;
  }
  const std::string command = args[1], path = args[2];
  if (command == "inspect") return Inspect(path);
  if (command == "tokenize") return Tokenize(path);
  if (command == "generate") return Generate(path);
  if (command == "bench") return Bench(path);
  if (command == "probs") return Probs(path);
  std::cerr << "recsys-llm: unknown command '" << command << "'\n";
  return 2;
}
