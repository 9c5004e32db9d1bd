// lvsk_spawn: starts a script without copying this process's page tables. libuv's uv_spawn forks (src/unix/process.c,
// uv__spawn_and_init_child_fork), and fork() copies every page-table entry of the parent while the event loop waits:
// the stall grows with the process's memory. clone(CLONE_VM | CLONE_VFORK) shares the memory instead and suspends
// only the calling thread until the child has exec'd or exited, as glibc's posix_spawn does
// (sysdeps/unix/sysv/linux/spawni.c); posix_spawn itself cannot switch uid/gid.
//   supported()                          pidfd_open(2) works here (Linux >= 5.3): the exit is watched through a pidfd
//   spawn(file, argv, envp, uid, gid, onExit)
//                                        starts `file` (searched in PATH as execvp does) with argv and envp ("K=V"
//                                        strings), as libuv's uv__process_child_init does it for child_process.spawn
//                                        with detached, stdio 'ignore' and uid/gid (-1: unchanged): every signal of
//                                        1..31 at SIG_DFL, setsid(), stdin/stdout/stderr on /dev/null,
//                                        setgroups(0, NULL) (best effort) then setgid and setuid, an empty signal
//                                        mask, execvpe. The child inherits the calling thread's nice and network
//                                        namespace, as a forked one does. Returns the pid; onExit(code, signal) is
//                                        called once it has exited and been reaped (code -1 when killed by signal
//                                        number `signal`, signal 0 otherwise). A child that could not start throws
//                                        { errno, code, syscall } (ENOENT, EACCES, EPERM …) after it was reaped.
// Only this pid is waited for: libuv reaps only the pids of its own uv_process_t handles (uv__wait_children calls
// waitpid(process->pid, …) for each), so neither side takes the other's child.
#include <napi.h>
#include <uv.h>

#include "errno-error.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

namespace {

int PidfdOpen(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

// Everything the child needs, prepared before clone(): after it, the child may not allocate (it shares the heap with
// a parent thread that was stopped anywhere, perhaps holding malloc's lock).
struct ChildArgs {
  const char* file;
  char* const* argv;
  char* const* envp;
  long uid;
  long gid;
  // Written by the child before it exits when a step failed; read by the parent once clone() has returned, which
  // CLONE_VFORK delays until the child has exec'd or exited.
  int err;
  const char* syscall;
};

[[noreturn]] void Fail(ChildArgs* a, const char* syscall) {
  a->err = errno;
  a->syscall = syscall;
  _exit(127);
}

// The child. setgroups/setgid/setuid are raw system calls: glibc's wrappers apply the change to every thread of the
// process they believe they run in (the setxid broadcast), and with CLONE_VM that would be the parent's threads.
int Child(void* arg) {
  auto* a = static_cast<ChildArgs*>(arg);
  // Until here the parent's handlers are installed and would run on the parent's memory: every signal was blocked
  // before clone(). A script starts with default dispositions (1..31, as libuv), and no handler of ours may run once
  // the mask is cleared below (the real-time ones an exec resets anyway).
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  for (int n = 1; n < NSIG; n++) {
    if (n == SIGKILL || n == SIGSTOP) continue;
    if (n >= 32) {
      struct sigaction old;
      if (sigaction(n, nullptr, &old) != 0 || old.sa_handler == SIG_DFL || old.sa_handler == SIG_IGN) continue;
    }
    sigaction(n, &dfl, nullptr);
  }
  if (setsid() < 0) Fail(a, "setsid");
  for (int fd = 0; fd <= 2; fd++) {
    int null = open("/dev/null", fd == 0 ? O_RDONLY : O_RDWR);
    if (null < 0) Fail(a, "open");
    if (null != fd) {
      if (dup2(null, fd) < 0) Fail(a, "dup2");
      close(null);
    }
  }
  if (a->uid >= 0 || a->gid >= 0) syscall(SYS_setgroups, 0, nullptr);  // fails unless privileged, as in libuv
  if (a->gid >= 0 && syscall(SYS_setgid, a->gid) != 0) Fail(a, "setgid");
  if (a->uid >= 0 && syscall(SYS_setuid, a->uid) != 0) Fail(a, "setuid");
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  // execvpe searches the PATH of this process's environment, which is the PATH of envp (the caller passes this
  // environment minus IFS, LD_PRELOAD and LD_LIBRARY_PATH), as libuv's child searches its env's; it allocates on the
  // stack only, as glibc's own posix_spawnp child uses it.
  execvpe(a->file, a->argv, a->envp);
  Fail(a, "spawn");
}

/** A started child until it is reaped: its pidfd watched on the loop. */
struct Watch {
  uv_poll_t poll;
  int pidfd;
  pid_t pid;
  napi_env env;
  Napi::FunctionReference on_exit;
  std::unique_ptr<Napi::AsyncContext> async;
};

void OnClosed(uv_handle_t* handle) {
  auto* w = static_cast<Watch*>(handle->data);
  close(w->pidfd);
  delete w;
}

// The pidfd is readable once the process has exited; it stays a zombie until this waitpid.
void OnExit(uv_poll_t* handle, int /*status*/, int /*events*/) {
  auto* w = static_cast<Watch*>(handle->data);
  int status = 0;
  pid_t r;
  do r = waitpid(w->pid, &status, WNOHANG);
  while (r < 0 && errno == EINTR);
  if (r == 0) return;
  uv_close(reinterpret_cast<uv_handle_t*>(&w->poll), OnClosed);
  Napi::Env env(w->env);
  Napi::HandleScope scope(env);
  int code = r > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  int signal = r > 0 && WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  try {
    w->on_exit.MakeCallback(env.Global(), {Napi::Number::New(env, code), Napi::Number::New(env, signal)}, *w->async);
  } catch (const Napi::Error& e) {
    // A throwing listener is the process's uncaught exception, as one in a ChildProcess 'exit' listener is.
    napi_fatal_exception(env, e.Value());
  }
}

std::vector<std::string> Strings(Napi::Value v) {
  std::vector<std::string> out;
  auto a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); i++) out.push_back(a.Get(i).As<Napi::String>().Utf8Value());
  return out;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> p;
  for (auto& s : strings) p.push_back(s.data());
  p.push_back(nullptr);
  return p;
}

Napi::Value Supported(const Napi::CallbackInfo& info) {
  int fd = PidfdOpen(getpid());
  if (fd >= 0) close(fd);
  return Napi::Boolean::New(info.Env(), fd >= 0);
}

Napi::Value Spawn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 6 || !info[0].IsString() || !info[1].IsArray() || !info[2].IsArray() || !info[3].IsNumber() ||
      !info[4].IsNumber() || !info[5].IsFunction()) {
    Napi::TypeError::New(env, "spawn(file, argv, envp, uid, gid, onExit)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string file = info[0].As<Napi::String>().Utf8Value();
  std::vector<std::string> argv = Strings(info[1]);
  std::vector<std::string> envp = Strings(info[2]);
  std::vector<char*> argvp = Pointers(argv);
  std::vector<char*> envpp = Pointers(envp);
  ChildArgs args = {file.c_str(), argvp.data(), envpp.data(), info[3].As<Napi::Number>().Int64Value(),
                    info[4].As<Napi::Number>().Int64Value(), 0, nullptr};

  // The child's stack: execvpe builds the PATH candidate and, for a script without #!, the /bin/sh argv on it.
  size_t stack_size = (64 * 1024 + (argv.size() + 2) * sizeof(char*) + 4095) & ~static_cast<size_t>(4095);
  void* stack = mmap(nullptr, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) {
    ErrnoError(env, errno, "mmap").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = clone(Child, static_cast<char*>(stack) + stack_size, CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
  int clone_err = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  munmap(stack, stack_size);
  if (pid < 0) {
    ErrnoError(env, clone_err, "clone").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (args.err != 0) {
    while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    ErrnoError(env, args.err, args.syscall).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  // Our unreaped child keeps its pid, so the pidfd names it even when it has already exited.
  int pidfd = PidfdOpen(pid);
  int rc = pidfd < 0 ? -errno : 0;
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  auto* w = new Watch{{}, pidfd, pid, env, Napi::Persistent(info[5].As<Napi::Function>()),
                      std::make_unique<Napi::AsyncContext>(env, "lvsk_spawn")};
  w->poll.data = w;
  if (rc == 0) rc = uv_poll_init(loop, &w->poll, pidfd);
  bool polling = rc == 0;
  if (rc == 0) rc = uv_poll_start(&w->poll, UV_READABLE, OnExit);
  if (rc != 0) {
    // Not watchable (no pidfd_open: the caller asks supported() first): the child is killed and reaped rather than
    // left running unseen.
    kill(pid, SIGKILL);
    while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    if (polling) {
      uv_close(reinterpret_cast<uv_handle_t*>(&w->poll), OnClosed);
    } else {
      if (pidfd >= 0) close(pidfd);
      delete w;
    }
    ErrnoError(env, -rc, pidfd < 0 ? "pidfd_open" : "uv_poll_start").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::Number::New(env, pid);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("supported", Napi::Function::New(env, Supported));
  exports.Set("spawn", Napi::Function::New(env, Spawn));
  return exports;
}

}  // namespace

NODE_API_MODULE(lvsk_spawn, Init)
