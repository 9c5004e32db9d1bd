// lvsk_netns: one call made from inside another network namespace, as keepalived's core/namespaces.c
// set_netns_name / restore_net_namespace wrap the IPVS socket's creation (socket_netns_name, nl_ipvs_connect).
//   inNetns(path, fn)  setns(CLONE_NEWNET) of the calling thread into the namespace at `path` (a bind mount under
//                      /var/run/netns, or /proc/PID/ns/net), fn() run there, the thread put back where it was
//                      whether fn returns or throws; returns fn's value. A socket fn opens keeps the namespace it was
//                      made in, and a process fn forks starts in it; nothing else changes namespace: setns moves only
//                      this thread, and fn runs synchronously on it.
// Errors carry { errno, code, syscall } like Node's own; a thread that cannot get back aborts the process, since every
// later socket it made would be in the wrong namespace.
#include <napi.h>

#include "errno-error.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <string>

namespace {

Napi::Value InNetns(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsFunction()) {
    Napi::TypeError::New(env, "inNetns(path, fn)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int target = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    ErrnoError(env, errno, "open").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (home < 0) {
    int err = errno;
    close(target);
    ErrnoError(env, err, "open").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int entered = setns(target, CLONE_NEWNET);
  int err = errno;
  close(target);
  if (entered != 0) {
    close(home);
    ErrnoError(env, err, "setns").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Value result;
  try {
    result = info[1].As<Napi::Function>().Call({});
  } catch (const Napi::Error&) {
    // Back home first: the exception is rethrown once the thread is where it started.
    if (setns(home, CLONE_NEWNET) != 0) Napi::Error::Fatal("inNetns", "setns back to the thread's own namespace failed");
    close(home);
    throw;
  }
  if (setns(home, CLONE_NEWNET) != 0) Napi::Error::Fatal("inNetns", "setns back to the thread's own namespace failed");
  close(home);
  return result;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("inNetns", Napi::Function::New(env, InNetns));
  return exports;
}

}  // namespace

NODE_API_MODULE(lvsk_netns, Init)
