// lvsk_exchange: the checkers' exchanges (connect, send one request, read the reply) on one epoll set shared by
// every check: TCP for HTTP_GET and TCP_CHECK, the connect of SSL_GET and SMTP_CHECK, UDP for DNS_CHECK and
// UDP_CHECK. A Node socket per check costs a handle, two streams and several epoll_ctl calls; here a check is one
// socket that is added to the set once (edge-triggered) and leaves it by close().
//
//   new ExchangeSet(onEvents(events: Int32Array, data: Buffer))
//   start(family 4|6, ip, port, bindIp|"", bindPort|0, bindIf|"", fwmark|0, timeoutMs, request|null, datagram, maxBytes)
//     → handle ≥ 0, or -errno (bindIf is SO_BINDTODEVICE, fwmark SO_MARK, as keepalived's bind_if and fwmark);
//     request is a string or Buffer; datagram: a connected UDP socket (DNS_CHECK, UDP_CHECK) instead of TCP;
//     maxBytes: the most reply bytes the caller can use (0 = no limit), read no further
//   close(handle)   closes a live exchange with a reset (no TIME_WAIT on either side); stale handles are ignored
//   detach(handle)  → the connected descriptor, now the caller's (dialogue checkers hand it to a net.Socket)
//
// Events arrive in batches, one triple [handle, kind, value] each; DATA bytes are concatenated in `data` in order.
//   CONNECTED (only when no request was given; nothing is read then)   DATA value=length   END (peer closed)
//   ERROR value=errno   TIMEOUT value=1 once connected, 0 while connecting   LIMIT (maxBytes delivered)
// END, ERROR, TIMEOUT and LIMIT close the exchange here (LIMIT with a reset, as close()).
// A handle is a slot and its generation. A slot freed while a batch is made or dispatched is reused only after that
// batch's callback returns, so no handle started in the callback shares a slot with one the batch still names: the
// caller can keep its handlers in an array by slot.
//
// Deadlines: on TCP connect_timeout bounds the connect, then the whole reply from the moment the connect completes.
// keepalived's checker timer (check_http.c, http_read_thread) restarts on every read, so a peer that keeps sending
// never times out there and its check never ends; here it fails connect_timeout after the connect. A datagram
// exchange has one deadline for the whole exchange, so unwanted replies cannot keep it open.
//
// Reads are bounded so that no peer can hold the event loop: each wake-up reads at most one chunk (kReadChunk, one
// datagram on UDP) per exchange, and one batch delivered to JS holds at most kBatchBytes. A socket that may still
// have data (edge-triggered epoll will not report it again) waits on a ready list that an idle handle services on
// the next loop turn; the idle handle runs only while that list is non-empty, so nothing spins when nothing is ready.
#include <napi.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <functional>
#include <queue>
#include <string>
#include <utility>
#include <vector>

namespace {

enum EventKind : int32_t { kConnected = 0, kData = 1, kEnd = 2, kError = 3, kTimeout = 4, kLimit = 5 };

constexpr int kMaxEvents = 256;
// One read per exchange per wake-up, of at most this much; also the largest UDP datagram.
constexpr size_t kReadChunk = 65536;
// A batch handed to JS stops taking reads once it holds this much; the rest wait for the next loop turn.
constexpr size_t kBatchBytes = 1 << 20;
constexpr uint32_t kSlotBits = 20;
constexpr uint32_t kSlotMask = (1u << kSlotBits) - 1;
constexpr uint32_t kGenMask = 0x7ff;  // handles stay positive int32s
// Deadlines are checked in 10 ms steps: one timer wake covers every exchange due in the step.
constexpr uint64_t kTimerStepMs = 10;

uint64_t NowMs() { return uv_hrtime() / 1000000; }

struct Exchange {
  int fd = -1;
  uint32_t gen = 0;
  bool connected = false;
  bool report_connect = false;
  bool datagram = false;
  bool peer_closed = false;  // RDHUP/HUP seen: the next read may return the end
  bool ready = false;        // on the ready list: readable, not yet drained
  uint32_t timeout_ms = 0;
  uint64_t deadline = 0;
  uint64_t max_bytes = 0;  // 0: no limit
  uint64_t got = 0;
  std::string out;
  size_t out_off = 0;
};

bool ParseAddress(int family, const std::string& ip, uint16_t port, sockaddr_storage* ss, socklen_t* len) {
  memset(ss, 0, sizeof *ss);
  if (family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    *len = sizeof *a;
    return ip.empty() || inet_pton(AF_INET6, ip.c_str(), &a->sin6_addr) == 1;
  }
  auto* a = reinterpret_cast<sockaddr_in*>(ss);
  a->sin_family = AF_INET;
  a->sin_port = htons(port);
  *len = sizeof *a;
  return ip.empty() || inet_pton(AF_INET, ip.c_str(), &a->sin_addr) == 1;
}

class ExchangeSet : public Napi::ObjectWrap<ExchangeSet> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "ExchangeSet",
                       {InstanceMethod("start", &ExchangeSet::Start), InstanceMethod("close", &ExchangeSet::Close),
                        InstanceMethod("detach", &ExchangeSet::Detach)});
  }

  explicit ExchangeSet(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ExchangeSet>(info), buf_(kReadChunk) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsFunction()) {
      Napi::TypeError::New(env, "ExchangeSet(onEvents)").ThrowAsJavaScriptException();
      return;
    }
    on_events_ = Napi::Persistent(info[0].As<Napi::Function>());
    async_ = std::make_unique<Napi::AsyncContext>(env, "lvsk_exchange");
    epfd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epfd_ < 0) {
      Napi::Error::New(env, std::string("epoll_create1: ") + strerror(errno)).ThrowAsJavaScriptException();
      return;
    }
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    loop_ = loop;
    poll_ = new uv_poll_t;
    poll_->data = this;
    timer_ = new uv_timer_t;
    timer_->data = this;
    uv_timer_init(loop, timer_);
    idle_ = new uv_idle_t;
    idle_->data = this;
    uv_idle_init(loop, idle_);
    // An active idle handle makes the loop poll without blocking even when unreferenced; a live exchange on the
    // ready list keeps the process alive through poll_.
    uv_unref(reinterpret_cast<uv_handle_t*>(idle_));
    int rc = uv_poll_init(loop, poll_, epfd_);
    if (rc == 0) rc = uv_poll_start(poll_, UV_READABLE, OnPoll);
    if (rc != 0) {
      Napi::Error::New(env, std::string("uv_poll_start: ") + uv_strerror(rc)).ThrowAsJavaScriptException();
      return;
    }
    // Idle sets must not keep the process alive; a live exchange does (see Track).
    uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    uv_unref(reinterpret_cast<uv_handle_t*>(timer_));
    Ref();  // the set lives as long as the process: checks come and go, the epoll set stays
  }

 private:
  int epfd_ = -1;
  uv_loop_t* loop_ = nullptr;
  uv_poll_t* poll_ = nullptr;
  uv_timer_t* timer_ = nullptr;
  uv_idle_t* idle_ = nullptr;
  uint64_t timer_due_ = 0;
  // Exchanges that may still be readable, in the order they are to be read.
  std::vector<uint32_t> ready_;
  size_t live_ = 0;
  std::vector<Exchange> slots_;
  std::vector<uint32_t> free_;
  // Slots freed since the last batch was dispatched; free_ takes them once JS has seen every event naming them.
  std::vector<uint32_t> freed_;
  // (deadline, handle); entries whose exchange closed or moved its deadline are skipped when they surface.
  std::priority_queue<std::pair<uint64_t, uint32_t>, std::vector<std::pair<uint64_t, uint32_t>>, std::greater<>> due_;
  std::vector<int32_t> events_;
  std::vector<uint8_t> data_;
  std::vector<uint8_t> buf_;
  Napi::FunctionReference on_events_;
  std::unique_ptr<Napi::AsyncContext> async_;

  static uint32_t HandleOf(uint32_t slot, uint32_t gen) { return ((gen & kGenMask) << kSlotBits) | slot; }

  Exchange* Find(uint32_t handle) {
    uint32_t slot = handle & kSlotMask;
    if (slot >= slots_.size()) return nullptr;
    Exchange& x = slots_[slot];
    if (x.fd < 0 || (x.gen & kGenMask) != (handle >> kSlotBits)) return nullptr;
    return &x;
  }

  void Track(bool more) {
    if (more && live_++ == 0) {
      uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
      uv_ref(reinterpret_cast<uv_handle_t*>(timer_));
    } else if (!more && --live_ == 0) {
      uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
      uv_unref(reinterpret_cast<uv_handle_t*>(timer_));
    }
  }

  void Emit(uint32_t handle, EventKind kind, int32_t value) {
    events_.push_back(static_cast<int32_t>(handle));
    events_.push_back(kind);
    events_.push_back(value);
  }

  void SetDeadline(Exchange& x, uint32_t handle) {
    x.deadline = NowMs() + x.timeout_ms;
    due_.emplace(x.deadline, handle);
  }

  // Connected exchanges are reset (SO_LINGER 0) as HAProxy closes its checks; close() also takes the fd out of
  // the epoll set.
  void Release(uint32_t slot) {
    Exchange& x = slots_[slot];
    if (x.connected && !x.datagram) {
      struct linger lg = {1, 0};
      setsockopt(x.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    ::close(x.fd);
    Forget(slot);
  }

  void Forget(uint32_t slot) {
    Exchange& x = slots_[slot];
    x.fd = -1;
    x.gen++;
    x.ready = false;  // a stale ready-list entry no longer matches the generation
    x.out.clear();
    freed_.push_back(slot);
    Track(false);
  }

  void Finish(uint32_t handle, EventKind kind, int32_t value) {
    Emit(handle, kind, value);
    Release(handle & kSlotMask);
  }

  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 11) {
      Napi::TypeError::New(env, "start(family, ip, port, bindIp, bindPort, bindIf, fwmark, timeoutMs, request, datagram, maxBytes)")
          .ThrowAsJavaScriptException();
      return env.Undefined();
    }
    int family = info[0].As<Napi::Number>().Int32Value() == 6 ? AF_INET6 : AF_INET;
    std::string ip = info[1].As<Napi::String>();
    auto port = static_cast<uint16_t>(info[2].As<Napi::Number>().Uint32Value());
    std::string bind_ip = info[3].As<Napi::String>();
    auto bind_port = static_cast<uint16_t>(info[4].As<Napi::Number>().Uint32Value());
    std::string bind_if = info[5].As<Napi::String>();
    uint32_t mark = info[6].As<Napi::Number>().Uint32Value();
    uint32_t timeout_ms = info[7].As<Napi::Number>().Uint32Value();
    bool datagram = info[9].ToBoolean();
    double max_bytes = info[10].As<Napi::Number>().DoubleValue();
    sockaddr_storage dst, src;
    socklen_t dst_len, src_len;
    if (ip.empty() || !ParseAddress(family, ip, port, &dst, &dst_len) ||
        !ParseAddress(family, bind_ip, bind_port, &src, &src_len)) {
      return Napi::Number::New(env, -EINVAL);
    }
    int fd = socket(family, (datagram ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return Napi::Number::New(env, -errno);
    int err = 0;
    if (!bind_if.empty() && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, bind_if.c_str(), bind_if.size()) < 0) err = errno;
    if (err == 0 && mark != 0 && setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark) < 0) err = errno;
    if (err == 0 && (!bind_ip.empty() || bind_port != 0) && bind(fd, reinterpret_cast<sockaddr*>(&src), src_len) < 0) err = errno;
    if (err == 0 && connect(fd, reinterpret_cast<sockaddr*>(&dst), dst_len) < 0 && errno != EINPROGRESS) err = errno;
    uint32_t slot;
    if (err == 0) {
      if (free_.empty()) {
        slot = static_cast<uint32_t>(slots_.size());
        slots_.emplace_back();
      } else {
        slot = free_.back();
        free_.pop_back();
      }
      epoll_event ev = {};
      ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
      ev.data.u32 = HandleOf(slot, slots_[slot].gen);
      if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) < 0) {
        err = errno;
        free_.push_back(slot);
      }
    }
    if (err != 0) {
      ::close(fd);
      return Napi::Number::New(env, -err);
    }
    Exchange& x = slots_[slot];
    uint32_t handle = HandleOf(slot, x.gen);
    x.fd = fd;
    x.connected = false;
    x.peer_closed = false;
    x.ready = false;
    x.timeout_ms = timeout_ms;
    x.datagram = datagram;
    x.max_bytes = max_bytes > 0 ? static_cast<uint64_t>(max_bytes) : 0;
    x.got = 0;
    x.report_connect = !info[8].IsString() && !info[8].IsBuffer();
    if (info[8].IsString()) {
      x.out = info[8].As<Napi::String>().Utf8Value();
    } else if (info[8].IsBuffer()) {
      auto b = info[8].As<Napi::Buffer<char>>();
      x.out.assign(b.Data(), b.Length());
    }
    x.out_off = 0;
    Track(true);
    SetDeadline(x, handle);
    ArmTimer();
    return Napi::Number::New(env, handle);
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    uint32_t handle = info[0].As<Napi::Number>().Uint32Value();
    if (Find(handle) != nullptr) Release(handle & kSlotMask);
    return info.Env().Undefined();
  }

  Napi::Value Detach(const Napi::CallbackInfo& info) {
    uint32_t handle = info[0].As<Napi::Number>().Uint32Value();
    Exchange* x = Find(handle);
    if (x == nullptr || !x->connected) return Napi::Number::New(info.Env(), -EBADF);
    int fd = x->fd;
    epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
    Forget(handle & kSlotMask);
    return Napi::Number::New(info.Env(), fd);
  }

  // Writes what is left of the request; false when the exchange failed and was closed.
  bool WriteOut(Exchange& x, uint32_t handle) {
    while (x.out_off < x.out.size()) {
      ssize_t n = ::write(x.fd, x.out.data() + x.out_off, x.out.size() - x.out_off);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) return true;
        Finish(handle, kError, errno);
        return false;
      }
      x.out_off += static_cast<size_t>(n);
    }
    return true;
  }

  // One datagram, sent once even when empty (a UDP_CHECK without payload sends an empty one).
  bool SendDatagram(Exchange& x, uint32_t handle) {
    ssize_t n;
    do n = ::write(x.fd, x.out.data(), x.out.size());
    while (n < 0 && errno == EINTR);
    if (n < 0) {
      Finish(handle, kError, errno);
      return false;
    }
    return true;
  }

  // One read, at most kReadChunk (one datagram on UDP) and no more than the caller still wants. An exchange that may
  // have more goes (back) on the ready list: edge-triggered epoll reports it again only when more arrives.
  void ReadOnce(Exchange& x, uint32_t handle) {
    size_t want = buf_.size();
    if (x.max_bytes != 0 && x.max_bytes - x.got < want) want = static_cast<size_t>(x.max_bytes - x.got);
    ssize_t n = ::read(x.fd, buf_.data(), want);
    if (n > 0 || (x.datagram && n == 0)) {
      Emit(handle, kData, static_cast<int32_t>(n));
      data_.insert(data_.end(), buf_.data(), buf_.data() + n);
      x.got += static_cast<uint64_t>(n);
      if (!x.datagram && x.max_bytes != 0 && x.got >= x.max_bytes) {
        Finish(handle, kLimit, 0);
        return;
      }
      // A short stream read emptied the queue, unless the FIN is already here; a datagram says nothing of the next.
      if (x.datagram || static_cast<size_t>(n) == want || x.peer_closed) MarkReady(x, handle);
    } else if (n == 0) {
      Finish(handle, kEnd, 0);
    } else if (errno == EINTR) {
      MarkReady(x, handle);
    } else if (errno != EAGAIN) {
      Finish(handle, kError, errno);
    }
  }

  void MarkReady(Exchange& x, uint32_t handle) {
    if (x.ready) return;
    x.ready = true;
    ready_.push_back(handle);
  }

  // Reads now unless this batch is full or the exchange already waits its turn on the ready list.
  void Readable(Exchange& x, uint32_t handle) {
    if (x.ready) return;
    if (data_.size() >= kBatchBytes) MarkReady(x, handle);
    else ReadOnce(x, handle);
  }

  // One read for each exchange on the ready list, in order, until the batch is full; the rest keep their place.
  void ServiceReady() {
    std::vector<uint32_t> turn;
    turn.swap(ready_);
    size_t i = 0;
    for (; i < turn.size() && data_.size() < kBatchBytes; i++) {
      Exchange* x = Find(turn[i]);
      if (x == nullptr || !x->ready) continue;
      x->ready = false;
      ReadOnce(*x, turn[i]);
    }
    if (i < turn.size()) {
      // Those not reached go first next turn, ahead of those read again this turn.
      std::vector<uint32_t> next(turn.begin() + static_cast<std::ptrdiff_t>(i), turn.end());
      next.insert(next.end(), ready_.begin(), ready_.end());
      ready_.swap(next);
    }
  }

  void ArmIdle() {
    bool active = uv_is_active(reinterpret_cast<uv_handle_t*>(idle_)) != 0;
    if (!ready_.empty() && !active) uv_idle_start(idle_, OnIdle);
    else if (ready_.empty() && active) uv_idle_stop(idle_);
  }

  void OnEvent(uint32_t handle, uint32_t events) {
    Exchange* x = Find(handle);
    if (x == nullptr) return;
    if (!x->connected) {
      if (events & (EPOLLERR | EPOLLHUP)) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(x->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        Finish(handle, kError, err != 0 ? err : ECONNREFUSED);
        return;
      }
      if (!(events & EPOLLOUT)) return;
      x->connected = true;
      if (!x->datagram) SetDeadline(*x, handle);
      if (x->report_connect) {
        Emit(handle, kConnected, 0);
        return;
      }
      if (x->datagram && !SendDatagram(*x, handle)) return;
    }
    // The caller of a CONNECTED exchange closes or detaches it; its bytes are not ours to read.
    if (x->report_connect) return;
    if (!x->datagram && (events & EPOLLOUT) && !WriteOut(*x, handle)) return;
    if (events & (EPOLLRDHUP | EPOLLHUP)) x->peer_closed = true;
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) Readable(*x, handle);
  }

  void Expire() {
    uint64_t now = NowMs();
    while (!due_.empty() && due_.top().first <= now) {
      auto [deadline, handle] = due_.top();
      due_.pop();
      Exchange* x = Find(handle);
      if (x != nullptr && x->deadline == deadline) Finish(handle, kTimeout, x->connected ? 1 : 0);
    }
  }

  void ArmTimer() {
    while (!due_.empty()) {
      Exchange* x = Find(due_.top().second);
      if (x != nullptr && x->deadline == due_.top().first) break;
      due_.pop();
    }
    if (due_.empty()) {
      if (timer_due_ != 0) uv_timer_stop(timer_);
      timer_due_ = 0;
      return;
    }
    uint64_t step = (due_.top().first + kTimerStepMs - 1) / kTimerStepMs * kTimerStepMs;
    if (step == timer_due_) return;
    timer_due_ = step;
    uint64_t now = NowMs();
    uv_timer_start(timer_, OnTimer, step > now ? step - now : 1, 0);
  }

  void Recycle() {
    free_.insert(free_.end(), freed_.begin(), freed_.end());
    freed_.clear();
  }

  void Deliver() {
    if (events_.empty()) return Recycle();
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    auto events = Napi::Int32Array::New(env, events_.size());
    memcpy(events.Data(), events_.data(), events_.size() * sizeof(int32_t));
    auto data = Napi::Buffer<uint8_t>::Copy(env, data_.data(), data_.size());
    events_.clear();
    data_.clear();
    try {
      on_events_.MakeCallback(Value(), {events, data}, *async_);
    } catch (const Napi::Error&) {
      // The JS side reports its own errors; nothing may unwind into libuv.
    }
    Recycle();
  }

  // Takes in every event the kernel already has. The timer runs it before Expire(): after the loop stalled (a fork,
  // a long GC), libuv runs timers before polling, and a reply that arrived in time must not count as a timeout.
  void Drain() {
    epoll_event evs[kMaxEvents];
    int n;
    do {
      n = epoll_wait(epfd_, evs, kMaxEvents, 0);
      for (int i = 0; i < n; i++) OnEvent(evs[i].data.u32, evs[i].events);
    } while (n == kMaxEvents);
  }

  static void OnPoll(uv_poll_t* handle, int status, int /*events*/) {
    auto* self = static_cast<ExchangeSet*>(handle->data);
    if (status == 0) self->Drain();
    self->Expire();
    self->ArmTimer();
    self->ArmIdle();
    self->Deliver();
  }

  static void OnIdle(uv_idle_t* handle) {
    auto* self = static_cast<ExchangeSet*>(handle->data);
    self->Expire();
    self->ServiceReady();
    self->ArmTimer();
    self->ArmIdle();
    self->Deliver();
  }

  static void OnTimer(uv_timer_t* handle) {
    auto* self = static_cast<ExchangeSet*>(handle->data);
    self->timer_due_ = 0;
    self->Drain();
    self->Expire();
    self->ArmTimer();
    self->Deliver();
  }
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("ExchangeSet", ExchangeSet::Init(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(lvsk_exchange, Init)
