// A model service under test, on the parts the shell (services/common/model_service.h) gives
// it in a server: fixtures of tests/models/testdata copied into a model repository on disk,
// a local feature store (RocksDB + FAISS) unless turned off, one started ModelManager per
// model in the service's ModelHost, the service's handlers on a LoopbackServer, and a client
// stub of its API (`Api`, the generated service class, e.g. seqrec::v1::SeqRecService).
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "recsys/store/local_store.h"
#include "services/common/executor.h"
#include "services/common/model_host.h"
#include "services/common/model_service.h"
#include "tests/testing/loopback_server.h"
#include "tests/testing/model_fixtures.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace recsys::testing {

// `count` events of one user, oldest first: event i has id "e<i>", item item_of(i), category
// category_of(i) (0 without it) and timestamp i ms.
inline std::vector<store::Event> UserEvents(const std::string& user, int count,
                                            const std::function<int64_t(int)>& item_of,
                                            const std::function<int64_t(int)>& category_of = {}) {
  std::vector<store::Event> events;
  for (int i = 0; i < count; ++i) {
    store::Event& e = events.emplace_back();
    e.user_id = user;
    e.event_id = absl::StrCat("e", i);
    e.item_id = item_of(i);
    e.category_id = category_of ? category_of(i) : 0;
    e.timestamp_ms = i;
  }
  return events;
}

template <typename Service, typename Api>
class ModelServiceHarness {
 public:
  using Model = typename Service::Model;
  using Stub = typename Api::Stub;

  struct Options {
    std::string service;  // name and flag prefix, e.g. "seqrec"
    // (served model name, fixture) pairs: <fixture_dir>/<fixture>/1 is copied in.
    std::vector<std::pair<std::string, std::string>> models;
    std::string fixture_dir = RECSYS_TESTDATA_DIR;  // or a directory made at test time
    prometheus::Registry* metrics = nullptr;
    std::function<absl::StatusOr<std::unique_ptr<Model>>(const std::string&)> load;
    absl::Duration poll_interval = absl::Seconds(10);
    bool with_store = true;
    int64_t max_batch_users = 256;
  };
  using Make = std::function<std::unique_ptr<Service>(const ModelServiceContext&)>;

  ModelServiceHarness() = default;
  ModelServiceHarness(const ModelServiceHarness&) = delete;
  ModelServiceHarness& operator=(const ModelServiceHarness&) = delete;
  ~ModelServiceHarness() { Stop(); }

  // Failures are test failures; check ok() before using the service.
  void Start(const Options& options, const Make& make) {
    for (const auto& [name, fixture] : options.models) {
      CopyModelFixture(fixture, repo(), name, 1, options.fixture_dir);
    }
    if (options.with_store) {
      store::LocalStoreOptions store_options;
      store_options.data_dir = data_.File("store");
      absl::StatusOr<std::unique_ptr<store::FeatureStore>> local =
          store::OpenLocalStore(store_options);
      ASSERT_THAT(local.status(), IsOk());
      store_ = *std::move(local);
    }
    typename ModelManager<Model>::Options manager;
    manager.load = options.load;
    manager.poll_interval = options.poll_interval;
    absl::StatusOr<typename ModelHost<Model>::Models> models =
        ModelHost<Model>::StartModels(repo(), {}, JoinNames(options.models), std::move(manager));
    ASSERT_THAT(models.status(), IsOk());
    ModelServiceContext context;
    context.name = options.service;
    context.policy.executor = &executor_;
    service_name_ = options.service;
    context.policy.service_name = service_name_.c_str();
    context.batcher.name = options.service;
    context.batcher.max_delay = absl::Milliseconds(1);
    context.max_batch_users = options.max_batch_users;
    context.metrics = options.metrics;
    service_ = make(context);
    service_->host().Open(*std::move(models), store_.get());
    server_ = std::make_unique<LoopbackServer>(std::vector<grpc::Service*>{service_.get()});
    stub_ = Api::NewStub(server_->NewChannel());
  }

  bool ok() const { return server_ != nullptr && server_->ok(); }

  // The order of a server's shutdown: no new call, the batchers, the version watchers.
  void Stop() {
    if (server_) server_->Shutdown();
    if (service_) {
      service_->Stop();
      service_->host().Stop();
    }
    executor_.Stop();
  }

  const std::string& repo() const { return repo_.path(); }
  std::string RepoFile(const std::string& name) const { return repo_.File(name); }
  // The local feature store (null with with_store = false).
  store::FeatureStore* store() const { return store_.get(); }
  std::shared_ptr<grpc::Channel> NewChannel() const { return server_->NewChannel(); }

  // A unary call through the stub with a 10 s deadline: Call(&Stub::Score, request, &response).
  template <typename Request, typename Response>
  grpc::Status Call(grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
                    const Request& request, Response* response) {
    return ((*stub_).*method)(ContextWithDeadline().get(), request, response);
  }
  // Its status only.
  template <typename Request, typename Response>
  grpc::Status StatusOf(grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                                     Response*),
                        const Request& request) {
    Response response;
    return Call(method, request, &response);
  }

 private:
  static std::string JoinNames(const std::vector<std::pair<std::string, std::string>>& models) {
    std::string names;
    for (const auto& [name, unused] : models)
      absl::StrAppend(&names, names.empty() ? "" : ",", name);
    return names;
  }

  TempDir repo_, data_;
  std::string service_name_;  // the call policy points at it
  Executor executor_{4};
  std::unique_ptr<store::FeatureStore> store_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<LoopbackServer> server_;
  std::unique_ptr<Stub> stub_;
};

}  // namespace recsys::testing
