// lvsk_rawsock: the raw sockets VRRP and PING_CHECK need, and nothing else (style-exemplars §6, convention 10).
//   kind "vrrp"   AF_INET/AF_INET6 SOCK_RAW proto 112: adverts, multicast or unicast, with pktinfo/TTL on receive
//   kind "icmp6"  AF_INET6 SOCK_RAW IPPROTO_ICMPV6: unsolicited neighbour adverts (kernel fills the checksum)
//   kind "packet" AF_PACKET SOCK_RAW: gratuitous ARP frames (and capturing them in tests)
//   kind "ping"   AF_INET IPPROTO_ICMP / AF_INET6 IPPROTO_ICMPV6: PING_CHECK echoes; receives echo replies only
//   kind "udp"    AF_INET/AF_INET6 SOCK_DGRAM, receive only (bindUdp): BFD control packets with the TTL / hop limit
//                 they arrived with, which GTSM needs (RFC 5881 §5) and Node's dgram does not give
// Receive callback: (data: Buffer, src: Buffer|null, dst: Buffer|null, ifindex, ttl, proto).
//   IPv4 VRRP: the IP header is stripped here; ttl and proto (112, or 51 for AH) come from it.
//   IPv6: ttl is the hop limit from IPV6_HOPLIMIT, dst and ifindex from IPV6_PKTINFO.
//   packet: src is the sender MAC, dst null, ttl -1, proto the ethertype; our own outgoing frames are skipped.
//   udp: the datagram's payload; ttl from IP_TTL / IPV6_HOPLIMIT, dst and ifindex from the pktinfo; proto is the source
//   port.
// Sends are synchronous non-blocking sendmsg calls; EAGAIN is reported as an error rather than queued (raw datagram
// sockets only return it when the device queue is full, and VRRP re-sends every interval anyway).
#include <napi.h>
#include <uv.h>

#include "errno-error.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

namespace {

constexpr int kMaxReadsPerWake = 32;
// linux/icmp.h's raw-socket filter; that header clashes with net/if.h, so its two definitions are repeated here.
constexpr int kIcmpFilter = 1;
struct IcmpFilter {
  uint32_t blocked_types;
};
constexpr size_t kRecvBuf = 65536;

class RawSocket : public Napi::ObjectWrap<RawSocket> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "RawSocket",
                       {InstanceMethod("bindToDevice", &RawSocket::BindToDevice),
                        InstanceMethod("setMark", &RawSocket::SetMark),
                        InstanceMethod("bindPacket", &RawSocket::BindPacket),
                        InstanceMethod("bindUdp", &RawSocket::BindUdp),
                        InstanceMethod("joinGroup", &RawSocket::JoinGroup),
                        InstanceMethod("leaveGroup", &RawSocket::LeaveGroup),
                        InstanceMethod("setMulticastInterface", &RawSocket::SetMulticastInterface),
                        InstanceMethod("setTtl", &RawSocket::SetTtl),
                        InstanceMethod("send", &RawSocket::Send),
                        InstanceMethod("sendFrame", &RawSocket::SendFrame),
                        InstanceMethod("close", &RawSocket::Close)});
  }

  // new RawSocket(kind: 'vrrp'|'icmp6'|'packet'|'ping'|'udp', family: 4|6 or ethertype for 'packet', onMessage, onError)
  explicit RawSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RawSocket>(info), buf_(kRecvBuf) {
    Napi::Env env = info.Env();
    if (info.Length() < 4 || !info[0].IsString() || !info[1].IsNumber() || !info[2].IsFunction() ||
        !info[3].IsFunction()) {
      Napi::TypeError::New(env, "RawSocket(kind, family|ethertype, onMessage, onError)").ThrowAsJavaScriptException();
      return;
    }
    std::string kind = info[0].As<Napi::String>();
    int arg = info[1].As<Napi::Number>().Int32Value();
    int domain, proto, type = SOCK_RAW;
    if (kind == "udp") {
      family_ = domain = arg == 6 ? AF_INET6 : AF_INET;
      proto = IPPROTO_UDP;
      type = SOCK_DGRAM;
      udp_ = true;
    } else if (kind == "vrrp") {
      family_ = arg == 6 ? AF_INET6 : AF_INET;
      domain = family_;
      proto = 112;
    } else if (kind == "icmp6") {
      family_ = domain = AF_INET6;
      proto = IPPROTO_ICMPV6;
    } else if (kind == "ping") {
      family_ = domain = arg == 6 ? AF_INET6 : AF_INET;
      proto = arg == 6 ? static_cast<int>(IPPROTO_ICMPV6) : static_cast<int>(IPPROTO_ICMP);
    } else if (kind == "packet") {
      family_ = domain = AF_PACKET;
      proto = htons(static_cast<uint16_t>(arg));
    } else {
      Napi::TypeError::New(env, "unknown socket kind " + kind).ThrowAsJavaScriptException();
      return;
    }
    fd_ = socket(domain, type | SOCK_CLOEXEC | SOCK_NONBLOCK, proto);
    if (fd_ < 0) {
      ErrnoError(env, errno, "socket").ThrowAsJavaScriptException();
      return;
    }
    int one = 1, zero = 0, ttl = 255;
    // VRRP and neighbour adverts must leave with TTL/hop limit 255 (RFC 5798 §5.1.1.3, RFC 4861 §7.1.2); echoes
    // keep the system default, as ping(8) and keepalived's PING_CHECK do.
    bool ttl255 = kind != "ping";
    if (udp_) {
      // Receive only: the TTL and the address each datagram came to; IPv6 sockets stay IPv6-only.
      if (family_ == AF_INET) {
        setsockopt(fd_, IPPROTO_IP, IP_RECVTTL, &one, sizeof one);
        setsockopt(fd_, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
      } else {
        setsockopt(fd_, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        setsockopt(fd_, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof one);
        setsockopt(fd_, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
      }
    } else if (family_ == AF_INET) {
      setsockopt(fd_, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
      setsockopt(fd_, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl);
      if (ttl255) setsockopt(fd_, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl);
      setsockopt(fd_, IPPROTO_IP, IP_MULTICAST_LOOP, &zero, sizeof zero);
    } else if (family_ == AF_INET6) {
      setsockopt(fd_, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
      setsockopt(fd_, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof one);
      setsockopt(fd_, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &ttl, sizeof ttl);
      if (ttl255) setsockopt(fd_, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof ttl);
      setsockopt(fd_, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &zero, sizeof zero);
      if (proto == IPPROTO_ICMPV6) {
        // Only neighbour adverts (or, for ping, echo replies) are of interest; the rest would wake us for nothing.
        struct icmp6_filter filter;
        ICMP6_FILTER_SETBLOCKALL(&filter);
        ICMP6_FILTER_SETPASS(kind == "ping" ? ICMP6_ECHO_REPLY : ND_NEIGHBOR_ADVERT, &filter);
        setsockopt(fd_, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter);
      }
    }
    if (kind == "ping" && family_ == AF_INET) {
      // A raw ICMP socket sees every ICMP message the host receives; let only echo replies through.
      IcmpFilter filter = {~(1U << ICMP_ECHOREPLY)};
      setsockopt(fd_, SOL_RAW, kIcmpFilter, &filter, sizeof filter);
    }
    on_message_ = Napi::Persistent(info[2].As<Napi::Function>());
    on_error_ = Napi::Persistent(info[3].As<Napi::Function>());
    async_ = std::make_unique<Napi::AsyncContext>(env, "lvsk_rawsock");

    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
      Napi::Error::New(env, "napi_get_uv_event_loop failed").ThrowAsJavaScriptException();
      CloseFd();
      return;
    }
    poll_ = new uv_poll_t;
    poll_->data = this;
    int rc = uv_poll_init(loop, poll_, fd_);
    if (rc == 0) rc = uv_poll_start(poll_, UV_READABLE, OnPoll);
    if (rc != 0) {
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), OnPollClosed);
      poll_ = nullptr;
      CloseFd();
      ErrnoError(env, -rc, "uv_poll_start").ThrowAsJavaScriptException();
      return;
    }
    Ref();  // the open socket keeps its wrapper alive until close()
  }

  ~RawSocket() override { Shutdown(); }

 private:
  int fd_ = -1;
  int family_ = AF_INET;
  bool udp_ = false;
  uv_poll_t* poll_ = nullptr;
  std::vector<uint8_t> buf_;
  Napi::FunctionReference on_message_;
  Napi::FunctionReference on_error_;
  std::unique_ptr<Napi::AsyncContext> async_;

  static void OnPollClosed(uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); }

  void CloseFd() {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }

  // The watcher goes first: libuv must stop polling a descriptor before the descriptor is closed.
  bool Shutdown() {
    if (fd_ < 0) return false;
    if (poll_ != nullptr) {
      uv_poll_stop(poll_);
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), OnPollClosed);
      poll_ = nullptr;
    }
    CloseFd();
    return true;
  }

  bool CheckOpen(Napi::Env env) {
    if (fd_ >= 0) return true;
    Napi::Error e = Napi::Error::New(env, "socket is closed");
    e.Set("code", Napi::String::New(env, "EBADF"));
    e.ThrowAsJavaScriptException();
    return false;
  }

  void Fail(Napi::Env env, const char* syscall) { ErrnoError(env, errno, syscall).ThrowAsJavaScriptException(); }

  Napi::Value BindToDevice(const Napi::CallbackInfo& info) {
    if (!CheckOpen(info.Env())) return info.Env().Undefined();
    std::string name = info[0].As<Napi::String>();
    if (setsockopt(fd_, SOL_SOCKET, SO_BINDTODEVICE, name.c_str(), name.size()) < 0) Fail(info.Env(), "setsockopt");
    return info.Env().Undefined();
  }

  // SO_MARK: routing rules and netfilter see the mark (PING_CHECK's fwmark).
  Napi::Value SetMark(const Napi::CallbackInfo& info) {
    if (!CheckOpen(info.Env())) return info.Env().Undefined();
    uint32_t mark = info[0].As<Napi::Number>().Uint32Value();
    if (setsockopt(fd_, SOL_SOCKET, SO_MARK, &mark, sizeof mark) < 0) Fail(info.Env(), "setsockopt");
    return info.Env().Undefined();
  }

  // AF_PACKET only: receive (and send by default) on one interface.
  Napi::Value BindPacket(const Napi::CallbackInfo& info) {
    if (!CheckOpen(info.Env())) return info.Env().Undefined();
    struct sockaddr_ll sll = {};
    sll.sll_family = AF_PACKET;
    sll.sll_ifindex = info[0].As<Napi::Number>().Int32Value();
    sll.sll_protocol = htons(static_cast<uint16_t>(info[1].As<Napi::Number>().Uint32Value()));
    if (bind(fd_, reinterpret_cast<sockaddr*>(&sll), sizeof sll) < 0) Fail(info.Env(), "bind");
    return info.Env().Undefined();
  }

  // bindUdp(port): a "udp" socket listens on every address of its family (keepalived bfd_open_fd_in binds *:3784).
  Napi::Value BindUdp(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!CheckOpen(env)) return env.Undefined();
    uint16_t port = htons(static_cast<uint16_t>(info[0].As<Napi::Number>().Uint32Value()));
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    int rc;
    if (family_ == AF_INET) {
      struct sockaddr_in sin = {};
      sin.sin_family = AF_INET;
      sin.sin_port = port;
      rc = bind(fd_, reinterpret_cast<sockaddr*>(&sin), sizeof sin);
    } else {
      struct sockaddr_in6 sin6 = {};
      sin6.sin6_family = AF_INET6;
      sin6.sin6_port = port;
      rc = bind(fd_, reinterpret_cast<sockaddr*>(&sin6), sizeof sin6);
    }
    if (rc < 0) Fail(env, "bind");
    return env.Undefined();
  }

  Napi::Value Membership(const Napi::CallbackInfo& info, bool join) {
    Napi::Env env = info.Env();
    if (!CheckOpen(env)) return env.Undefined();
    Napi::Buffer<uint8_t> group = info[0].As<Napi::Buffer<uint8_t>>();
    int ifindex = info[1].As<Napi::Number>().Int32Value();
    int rc;
    if (family_ == AF_INET && group.Length() == 4) {
      struct ip_mreqn m = {};
      memcpy(&m.imr_multiaddr, group.Data(), 4);
      m.imr_ifindex = ifindex;
      rc = setsockopt(fd_, IPPROTO_IP, join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, &m, sizeof m);
    } else if (family_ == AF_INET6 && group.Length() == 16) {
      struct ipv6_mreq m = {};
      memcpy(&m.ipv6mr_multiaddr, group.Data(), 16);
      m.ipv6mr_interface = ifindex;
      rc = setsockopt(fd_, IPPROTO_IPV6, join ? IPV6_ADD_MEMBERSHIP : IPV6_DROP_MEMBERSHIP, &m, sizeof m);
    } else {
      Napi::TypeError::New(env, "group address does not match the socket family").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (rc < 0) Fail(env, "setsockopt");
    return env.Undefined();
  }
  Napi::Value JoinGroup(const Napi::CallbackInfo& info) { return Membership(info, true); }
  Napi::Value LeaveGroup(const Napi::CallbackInfo& info) { return Membership(info, false); }

  Napi::Value SetMulticastInterface(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!CheckOpen(env)) return env.Undefined();
    int ifindex = info[0].As<Napi::Number>().Int32Value();
    int rc;
    if (family_ == AF_INET) {
      struct ip_mreqn m = {};
      m.imr_ifindex = ifindex;
      rc = setsockopt(fd_, IPPROTO_IP, IP_MULTICAST_IF, &m, sizeof m);
    } else {
      rc = setsockopt(fd_, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifindex, sizeof ifindex);
    }
    if (rc < 0) Fail(env, "setsockopt");
    return env.Undefined();
  }

  // setTtl(unicast, multicast): keepalived's unicast_ttl; multicast stays 255 unless told otherwise (tests).
  Napi::Value SetTtl(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!CheckOpen(env)) return env.Undefined();
    int uni = info[0].As<Napi::Number>().Int32Value();
    int multi = info[1].As<Napi::Number>().Int32Value();
    int rc = family_ == AF_INET
                 ? setsockopt(fd_, IPPROTO_IP, IP_TTL, &uni, sizeof uni) |
                       setsockopt(fd_, IPPROTO_IP, IP_MULTICAST_TTL, &multi, sizeof multi)
                 : setsockopt(fd_, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &uni, sizeof uni) |
                       setsockopt(fd_, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &multi, sizeof multi);
    if (rc < 0) Fail(env, "setsockopt");
    return env.Undefined();
  }

  // send(data, dst: Buffer(4|16), ifindex, src: Buffer(4|16)|null): the kernel adds the IP header; IP_PKTINFO /
  // IPV6_PKTINFO pick the outgoing interface and, when given, the source address (unicast_src_ip / mcast_src_ip).
  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!CheckOpen(env)) return env.Undefined();
    Napi::Buffer<uint8_t> data = info[0].As<Napi::Buffer<uint8_t>>();
    Napi::Buffer<uint8_t> dst = info[1].As<Napi::Buffer<uint8_t>>();
    int ifindex = info[2].As<Napi::Number>().Int32Value();
    bool has_src = info.Length() > 3 && info[3].IsBuffer();
    struct iovec iov = {data.Data(), data.Length()};
    struct msghdr msg = {};
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(struct in6_pktinfo))] = {};
    struct sockaddr_in sin = {};
    struct sockaddr_in6 sin6 = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    struct cmsghdr* c = reinterpret_cast<struct cmsghdr*>(control);
    if (family_ == AF_INET && dst.Length() == 4) {
      sin.sin_family = AF_INET;
      memcpy(&sin.sin_addr, dst.Data(), 4);
      msg.msg_name = &sin;
      msg.msg_namelen = sizeof sin;
      struct in_pktinfo pi = {};
      pi.ipi_ifindex = ifindex;
      if (has_src) memcpy(&pi.ipi_spec_dst, info[3].As<Napi::Buffer<uint8_t>>().Data(), 4);
      c->cmsg_level = IPPROTO_IP;
      c->cmsg_type = IP_PKTINFO;
      c->cmsg_len = CMSG_LEN(sizeof pi);
      memcpy(CMSG_DATA(c), &pi, sizeof pi);
      msg.msg_controllen = CMSG_SPACE(sizeof pi);
    } else if (family_ == AF_INET6 && dst.Length() == 16) {
      sin6.sin6_family = AF_INET6;
      memcpy(&sin6.sin6_addr, dst.Data(), 16);
      sin6.sin6_scope_id = ifindex;
      msg.msg_name = &sin6;
      msg.msg_namelen = sizeof sin6;
      struct in6_pktinfo pi = {};
      pi.ipi6_ifindex = ifindex;
      if (has_src) memcpy(&pi.ipi6_addr, info[3].As<Napi::Buffer<uint8_t>>().Data(), 16);
      c->cmsg_level = IPPROTO_IPV6;
      c->cmsg_type = IPV6_PKTINFO;
      c->cmsg_len = CMSG_LEN(sizeof pi);
      memcpy(CMSG_DATA(c), &pi, sizeof pi);
      msg.msg_controllen = CMSG_SPACE(sizeof pi);
    } else {
      Napi::TypeError::New(env, "destination does not match the socket family").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    ssize_t n;
    do n = sendmsg(fd_, &msg, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0) Fail(env, "sendmsg");
    return env.Undefined();
  }

  // sendFrame(frame, ifindex): a whole Ethernet frame on an AF_PACKET socket.
  Napi::Value SendFrame(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!CheckOpen(env)) return env.Undefined();
    Napi::Buffer<uint8_t> frame = info[0].As<Napi::Buffer<uint8_t>>();
    if (family_ != AF_PACKET || frame.Length() < 14) {
      Napi::TypeError::New(env, "sendFrame needs a packet socket and a full Ethernet frame").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    struct sockaddr_ll sll = {};
    sll.sll_family = AF_PACKET;
    sll.sll_ifindex = info[1].As<Napi::Number>().Int32Value();
    memcpy(&sll.sll_protocol, frame.Data() + 12, 2);
    sll.sll_halen = 6;
    memcpy(sll.sll_addr, frame.Data(), 6);
    ssize_t n;
    do n = sendto(fd_, frame.Data(), frame.Length(), 0, reinterpret_cast<sockaddr*>(&sll), sizeof sll);
    while (n < 0 && errno == EINTR);
    if (n < 0) Fail(env, "sendto");
    return env.Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (Shutdown()) Unref();
    return info.Env().Undefined();
  }

  static void OnPoll(uv_poll_t* handle, int status, int /*events*/) {
    static_cast<RawSocket*>(handle->data)->Readable(status);
  }

  // Calls into JS; an exception from a listener goes to onError, and one from onError is dropped rather than
  // escaping into libuv.
  void Call(Napi::FunctionReference& fn, const std::vector<napi_value>& args) {
    try {
      fn.MakeCallback(Value(), args, *async_);
    } catch (const Napi::Error& e) {
      if (&fn == &on_error_) return;
      try {
        on_error_.MakeCallback(Value(), {e.Value()}, *async_);
      } catch (const Napi::Error&) {
      }
    }
  }

  void Readable(int status) {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (status < 0) {
      Call(on_error_, {ErrnoError(env, -status, "uv_poll").Value()});
      return;
    }
    for (int i = 0; i < kMaxReadsPerWake && fd_ >= 0; i++) {
      struct sockaddr_storage from = {};
      alignas(struct cmsghdr) char control[256];
      struct iovec iov = {buf_.data(), buf_.size()};
      struct msghdr msg = {};
      msg.msg_name = &from;
      msg.msg_namelen = sizeof from;
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control;
      msg.msg_controllen = sizeof control;
      ssize_t n;
      do n = recvmsg(fd_, &msg, 0);
      while (n < 0 && errno == EINTR);
      if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK) Call(on_error_, {ErrnoError(env, errno, "recvmsg").Value()});
        return;
      }
      if (msg.msg_flags & MSG_TRUNC) {
        Call(on_error_, {Napi::Error::New(env, "recvmsg: datagram truncated").Value()});
        continue;
      }
      Deliver(env, msg, static_cast<size_t>(n));
    }
  }

  void Deliver(Napi::Env env, const struct msghdr& msg, size_t n) {
    const uint8_t* p = buf_.data();
    Napi::Value src = env.Null(), dst = env.Null();
    int ifindex = 0, ttl = -1, proto = 0;
    if (udp_ && family_ == AF_INET) {
      auto* from = static_cast<const struct sockaddr_in*>(msg.msg_name);
      src = Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(&from->sin_addr), 4);
      proto = ntohs(from->sin_port);
      for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(const_cast<struct msghdr*>(&msg), c)) {
        if (c->cmsg_level != IPPROTO_IP) continue;
        if (c->cmsg_type == IP_TTL) {
          memcpy(&ttl, CMSG_DATA(c), sizeof ttl);
        } else if (c->cmsg_type == IP_PKTINFO) {
          struct in_pktinfo pi;
          memcpy(&pi, CMSG_DATA(c), sizeof pi);
          ifindex = pi.ipi_ifindex;
          dst = Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(&pi.ipi_addr), 4);
        }
      }
    } else if (family_ == AF_INET) {
      size_t ihl = n >= 1 ? static_cast<size_t>(p[0] & 0x0f) * 4 : 0;
      if (n < 20 || ihl < 20 || ihl > n) return;  // the kernel validated the header; a short one cannot be VRRP
      ttl = p[8];
      proto = p[9];
      src = Napi::Buffer<uint8_t>::Copy(env, p + 12, 4);
      dst = Napi::Buffer<uint8_t>::Copy(env, p + 16, 4);
      for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(const_cast<struct msghdr*>(&msg), c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
          struct in_pktinfo pi;
          memcpy(&pi, CMSG_DATA(c), sizeof pi);
          ifindex = pi.ipi_ifindex;
        }
      }
      p += ihl;
      n -= ihl;
    } else if (family_ == AF_INET6) {
      auto* from = static_cast<const struct sockaddr_in6*>(msg.msg_name);
      src = Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(&from->sin6_addr), 16);
      proto = udp_ ? ntohs(from->sin6_port) : 0;
      for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(const_cast<struct msghdr*>(&msg), c)) {
        if (c->cmsg_level != IPPROTO_IPV6) continue;
        if (c->cmsg_type == IPV6_PKTINFO) {
          struct in6_pktinfo pi;
          memcpy(&pi, CMSG_DATA(c), sizeof pi);
          ifindex = static_cast<int>(pi.ipi6_ifindex);
          dst = Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(&pi.ipi6_addr), 16);
        } else if (c->cmsg_type == IPV6_HOPLIMIT) {
          memcpy(&ttl, CMSG_DATA(c), sizeof ttl);
        }
      }
    } else {
      auto* from = static_cast<const struct sockaddr_ll*>(msg.msg_name);
      if (from->sll_pkttype == PACKET_OUTGOING) return;
      ifindex = from->sll_ifindex;
      proto = ntohs(from->sll_protocol);
      src = Napi::Buffer<uint8_t>::Copy(env, from->sll_addr, from->sll_halen < 8 ? from->sll_halen : 8);
    }
    Call(on_message_, {Napi::Buffer<uint8_t>::Copy(env, p, n), src, dst, Napi::Number::New(env, ifindex),
                       Napi::Number::New(env, ttl), Napi::Number::New(env, proto)});
  }
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("RawSocket", RawSocket::Init(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(lvsk_rawsock, Init)
