// SettlingWorker: the base of the binding's promise-returning AsyncWorkers (an op's `*Async`
// export, Program.runAsync). Internal header.
//
// Why not Napi::AsyncWorker's own completion: when a worker_thread is terminated while the work
// runs, Node still calls the completion callback, but from the environment's teardown, where
// JS can no longer run. Resolving a promise then fails, node-addon-api turns the failure into a
// C++ exception (napi_throw fails too, so it throws again from its catch block) and that
// exception leaves OnAsyncWorkComplete: std::terminate, SIGABRT for the whole process. Here the
// completion never throws: it settles the promise with plain Node-API calls whose failures are
// ignored (nobody is left to observe the promise), and skips JS work altogether once the
// environment's cleanup hook has run or the work was cancelled.
#pragma once

#include <napi.h>

#include <atomic>
#include <memory>
#include <string>

namespace axon::binding {

// Per environment (main thread or worker): set by the environment's cleanup hook. Shared so
// a completion that arrives after the environment's data is gone still reads valid memory.
struct EnvLife {
  std::atomic<bool> closing{false};
};

// Registers the cleanup hook for `env` (once, from Init).
void init_env_life(Napi::Env env);
// The calling environment's EnvLife (never null after init_env_life).
std::shared_ptr<EnvLife> env_life(Napi::Env env);

// Definitions in addon.cpp.
class SettlingWorker : public Napi::AsyncWorker {
 public:
  // The promise for the caller to return; valid in the call that created the worker.
  Napi::Value promise() const { return Napi::Value(Env(), promise_); }

 protected:
  SettlingWorker(Napi::Env env, const char* name);

  // Set by Execute (on the pool thread): the promise rejects with a RangeError carrying
  // `error_` when it is not empty, else resolves with `result_` (or undefined when !has_result_).
  std::string error_;
  double result_ = 0;
  bool has_result_ = false;

  // Runs on the JS thread after the promise is settled (or skipped) and before the worker is
  // deleted, whatever the environment's state: release bookkeeping here. Must not throw.
  virtual void Finished() noexcept {}

 private:
  void OnExecute(Napi::Env env) override;  // Execute, with any exception kept as error_
  void OnWorkComplete(Napi::Env env, napi_status status) override;
  void OnOK() override {}
  void OnError(const Napi::Error&) override {}
  void Settle(napi_env env) noexcept;

  const char* name_;  // a string literal: the op's or "Program.runAsync"
  std::shared_ptr<EnvLife> life_;
  napi_deferred deferred_ = nullptr;
  napi_value promise_ = nullptr;
};

}  // namespace axon::binding
