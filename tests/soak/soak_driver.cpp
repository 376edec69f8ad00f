// The soak driver: thousands of WebSocket connections against a running
// `duplex serve` (its push server, its /echo route and its HTTP API), all
// on one thread with epoll, each connection a sans-I/O `ClientProtocol`.
//
// Mixed traffic at once: echo clients, subscribers of several channels,
// publishers (push `publish` commands, and POST /api/publish), clients that
// subscribe and unsubscribe over and over, clients that stop reading,
// bursts of connect/close cycles, and connections reset in the middle of a
// frame or of the handshake. Every delivery to a healthy subscriber is
// checked against the channel's gap-free offsets (from the offset its
// subscription began at) and against each publisher's own sequence, so a
// lost, duplicated or reordered message is counted. It samples the server's
// resident memory and open descriptors (/proc/PID) after warm-up, during the
// run and at the end, closes everything, and waits (bounded) for the
// server's descriptors to come back to where they were.
//
//   soak_driver --port P [--server-pid PID] [--connections N] [--duration S] ...
//
// Prints one "name: value" line per figure, then PASS or FAIL with the
// reasons; exit status 0 or 1 (2 for bad arguments).
#include <duplex/protocol/client_protocol.hpp>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using duplex::protocol::ClientProtocol;
using duplex::protocol::ConnectionOptions;
using duplex::protocol::EventType;
using duplex::protocol::HandshakeEvent;
using duplex::protocol::LifecycleEvent;
using duplex::protocol::Opcode;
using duplex::protocol::Role;
using json = nlohmann::json;

double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// ---------------------------------------------------------------- options

struct Options {
  std::uint16_t port = 0;
  int server_pid = 0;
  int connections = 300;
  double duration = 30;
  double warmup = -1;         // default: a fifth of the duration, at most 60 s
  int channels = 8;           // soak-0 .. soak-7, and soak-fire
  double publish_rate = 200;  // push publications per second, all channels
  double fire_rate = 200;     // publications per second to soak-fire (2 KiB each)
  double api_rate = 20;       // POST /api/publish per second
  double echo_rate = 1000;    // echo messages per second, all echo clients
  double stall_seconds = 60;  // the longest a stalled client stops reading
  double stall_mib = -1;      // ... or until this much went to soak-fire (default: see main)
  double storm_period = 2;    // seconds between reconnect bursts
  double drain_seconds = 20;  // bound on waiting for the last deliveries
  double rss_factor = 1.5;    // end RSS <= warm-up RSS x factor + slack
  double rss_slack_mib = 32;
  int fd_slack = 4;  // end fds <= baseline + slack
  unsigned seed = 1;
};

bool parse_options(int argc, char** argv, Options& o) {
  double port = 0, pid = 0, connections = o.connections, channels = o.channels;
  double fd_slack = o.fd_slack, seed = o.seed;
  const std::pair<std::string_view, double*> flags[] = {
      {"--port", &port},
      {"--server-pid", &pid},
      {"--connections", &connections},
      {"--duration", &o.duration},
      {"--warmup", &o.warmup},
      {"--channels", &channels},
      {"--publish-rate", &o.publish_rate},
      {"--fire-rate", &o.fire_rate},
      {"--api-rate", &o.api_rate},
      {"--echo-rate", &o.echo_rate},
      {"--stall-seconds", &o.stall_seconds},
      {"--stall-mib", &o.stall_mib},
      {"--storm-period", &o.storm_period},
      {"--drain-seconds", &o.drain_seconds},
      {"--rss-factor", &o.rss_factor},
      {"--rss-slack-mib", &o.rss_slack_mib},
      {"--fd-slack", &fd_slack},
      {"--seed", &seed},
  };
  if (argc % 2 == 0) return false;  // every flag takes a value
  for (int i = 1; i < argc; i += 2) {
    const auto* flag =
        std::find_if(std::begin(flags), std::end(flags),
                     [key = std::string_view(argv[i])](const auto& f) { return f.first == key; });
    if (flag == std::end(flags)) return false;
    *flag->second = std::strtod(argv[i + 1], nullptr);
  }
  o.port = static_cast<std::uint16_t>(port);
  o.server_pid = static_cast<int>(pid);
  o.connections = static_cast<int>(connections);
  o.channels = static_cast<int>(channels);
  o.fd_slack = static_cast<int>(fd_slack);
  o.seed = static_cast<unsigned>(seed);
  if (o.warmup < 0) o.warmup = std::min(60.0, o.duration / 5);
  if (o.stall_mib < 0) {
    // What the server's queue (1 MiB) cannot hold together with the most a
    // socket's send buffer may grow to (the third figure of tcp_wmem) and
    // the stalled client's small receive buffer: 2 MiB more than tcp_wmem.
    long wmem[3] = {0, 0, 4 << 20};
    if (FILE* f = std::fopen("/proc/sys/net/ipv4/tcp_wmem", "r")) {
      if (std::fscanf(f, "%ld %ld %ld", &wmem[0], &wmem[1], &wmem[2]) != 3) wmem[2] = 4 << 20;
      std::fclose(f);
    }
    o.stall_mib = static_cast<double>(wmem[2]) / (1024 * 1024) + 2;
  }
  return o.port != 0 && o.connections >= 50 && o.duration > 0 && o.channels >= 1 &&
         o.channels <= 64;
}

// ---------------------------------------------------------------- figures

struct Counters {
  std::uint64_t connects = 0, connect_failures = 0, handshake_failures = 0, peak_open = 0;
  std::uint64_t echo_sent = 0, echo_received = 0, echo_mismatched = 0;
  std::uint64_t published = 0, publish_acks = 0, api_published = 0, api_failures = 0;
  std::uint64_t deliveries = 0, checked = 0, lost = 0, duplicated = 0, reordered = 0;
  std::uint64_t after_unsubscribe = 0, subscribes = 0, unsubscribes = 0;
  std::uint64_t command_errors = 0, protocol_errors = 0, unexpected_closes = 0;
  std::uint64_t stalls = 0, stalled_shed = 0, stalled_not_shed = 0, stalls_cut_short = 0;
  std::uint64_t storm_cycles = 0, resets = 0, pings = 0;
  std::map<int, std::uint64_t> unexpected_codes;  // close code (0: no close frame) -> count
  std::map<int, std::uint64_t> shed_codes;
};
Counters stats;

// /proc/PID: resident memory (KiB) and open descriptors.
struct Sample {
  long rss_kib = -1;
  long fds = -1;
};

Sample sample_process(int pid) {
  Sample s;
  if (pid <= 0) return s;
  const std::string base = "/proc/" + std::to_string(pid);
  if (FILE* f = std::fopen((base + "/status").c_str(), "r")) {
    char line[256];
    while (std::fgets(line, sizeof line, f)) {
      if (std::strncmp(line, "VmRSS:", 6) == 0) s.rss_kib = std::strtol(line + 6, nullptr, 10);
    }
    std::fclose(f);
  }
  if (DIR* d = ::opendir((base + "/fd").c_str())) {
    s.fds = 0;
    while (const dirent* e = ::readdir(d)) {
      if (e->d_name[0] != '.') ++s.fds;
    }
    ::closedir(d);
  }
  return s;
}

// ---------------------------------------------------------------- connections

enum class Kind : std::uint8_t {
  echo,        // numbered messages to /echo, each echo checked in order
  subscriber,  // subscribed to two channels (some to soak-fire) for the whole run
  churn,       // subscribes and unsubscribes, one command at a time
  publisher,   // push `publish` commands, a sequence per channel
  fire,        // the publisher of soak-fire (2 KiB publications)
  api,         // POST /api/publish over a keep-alive HTTP connection
  stalled,     // subscribes to soak-fire, then stops reading
  storm,       // connect/close cycles in bursts
  reset,       // half a frame (or half a request), then RST
};

enum class Phase : std::uint8_t { idle, connecting, handshaking, open, closing };

constexpr int kMaxPublishers = 8;  // publishers 0..3, fire 4, api 5

struct ChannelState {
  enum : std::uint8_t { none, subscribing, subscribed, unsubscribing } state = none;
  bool positioned = false;  // the subscribe reply gave the offset it began at
  std::uint64_t last_offset = 0;
  std::vector<std::uint64_t> early;  // offsets that came before the reply
  std::array<std::int64_t, kMaxPublishers> last_seq{};
};

struct Command {
  std::uint64_t id;
  std::uint8_t method;  // 0 connect, 1 subscribe, 2 unsubscribe, 3 publish, 4 history
  std::uint16_t channel;
};

struct Slot {
  Kind kind = Kind::echo;
  int index = 0;   // in the slot table
  int number = 0;  // among the slots of its kind
  std::uint32_t generation = 0;
  int fd = -1;
  Phase phase = Phase::idle;
  bool push = false;             // on /connection/websocket (else /echo, or HTTP)
  bool we_close = false;         // a close we started: not unexpected
  bool reading = true;           // false while stalled
  bool connected = false;        // push: the connect reply came
  int stall = 0;                 // stalled: 0 before, 1 not reading, 2 reading again
  bool stall_full = false;       // stalled: stopped reading for all of stall_mib
  std::uint64_t stall_mark = 0;  // stalled: fire_bytes when it stopped reading
  std::uint32_t cycle = 0;
  double next_action = 0;  // idle: when to connect; open: the role's next step
  std::unique_ptr<ClientProtocol> ws;
  // push
  std::uint64_t next_id = 1;
  std::deque<Command> commands;  // sent, reply not yet seen (replies come in order)
  std::vector<ChannelState> channels;
  std::vector<std::uint64_t> seq;  // publishers: next sequence number per channel
  // echo
  std::uint64_t echo_sent = 0, echo_received = 0;
  // HTTP
  std::string http_in;
  bool http_waiting = false;
};

struct Driver {
  Options o;
  int ep = -1;
  sockaddr_in addr{};
  std::vector<Slot> slots;
  std::vector<int> echo_slots, publisher_slots;
  int fire_slot = -1, api_slot = -1;
  std::mt19937 rng;
  std::vector<std::uint8_t> read_buffer = std::vector<std::uint8_t>(256 * 1024);
  std::string scratch;
  std::uint64_t open_now = 0;
  bool stopping = false;  // no new connections or traffic
  double next_storm = 0;
  std::vector<std::uint64_t> top;  // per channel: the stream's top at the end (history)
  std::string fire_pad = std::string(2048, 'f');
  std::uint64_t fire_bytes = 0;   // soak-fire payload the server took so far
  std::uint64_t stall_bytes = 0;  // how much a stalled client lets pile up

  std::string channel_name(int c) const {
    return c == o.channels ? std::string("soak-fire") : "soak-" + std::to_string(c);
  }
  int channel_index(std::string_view name) const {
    if (name == "soak-fire") return o.channels;
    if (name.substr(0, 5) != "soak-") return -1;
    int c = -1;
    std::from_chars(name.data() + 5, name.data() + name.size(), c);
    return c >= 0 && c < o.channels ? c : -1;
  }
  double uniform(double lo, double hi) { return std::uniform_real_distribution<>(lo, hi)(rng); }

  // ------------------------------------------------------------ set-up

  void make_slots() {
    const int n = o.connections;
    auto add = [this](Kind k, int count) {
      for (int i = 0; i < count; ++i) {
        Slot s;
        s.kind = k;
        s.index = static_cast<int>(slots.size());
        s.number = i;
        slots.push_back(std::move(s));
      }
    };
    add(Kind::publisher, 4);
    add(Kind::fire, 1);
    add(Kind::api, 1);
    add(Kind::stalled, std::clamp(n / 100, 2, 20));
    add(Kind::storm, n * 4 / 100);
    add(Kind::reset, n * 2 / 100);
    add(Kind::churn, n * 10 / 100);
    add(Kind::echo, n * 25 / 100);
    add(Kind::subscriber, n - static_cast<int>(slots.size()));
    const double t = now_s();
    for (Slot& s : slots) {
      s.next_action = t + uniform(0, 2);  // connect over the first two seconds
      if (s.kind == Kind::echo) echo_slots.push_back(s.index);
      if (s.kind == Kind::publisher) publisher_slots.push_back(s.index);
      if (s.kind == Kind::fire) fire_slot = s.index;
      if (s.kind == Kind::api) api_slot = s.index;
      if (s.kind == Kind::publisher || s.kind == Kind::fire || s.kind == Kind::api)
        s.seq.assign(static_cast<std::size_t>(o.channels) + 1, 0);
      s.push = s.kind != Kind::echo && s.kind != Kind::api;
    }
    top.assign(static_cast<std::size_t>(o.channels) + 1, 0);
  }

  bool healthy(const Slot& s) const {
    return s.kind != Kind::stalled && s.kind != Kind::storm && s.kind != Kind::reset;
  }

  // ------------------------------------------------------------ sockets

  void start(Slot& s) {
    s.phase = Phase::connecting;
    s.we_close = false;
    s.reading = true;
    s.connected = false;
    s.next_id = 1;
    s.commands.clear();
    s.echo_sent = s.echo_received = 0;
    s.http_in.clear();
    s.http_waiting = false;
    s.stall = 0;
    ++s.cycle;
    if (s.kind == Kind::storm) s.push = s.cycle % 2 == 0;
    if (s.kind == Kind::reset) s.push = s.cycle % 3 == 2;  // else /echo; 1: half a request
    if (s.push) s.channels.assign(static_cast<std::size_t>(o.channels) + 1, ChannelState{});
    s.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s.fd < 0) {
      ++stats.connect_failures;
      s.phase = Phase::idle;
      s.next_action = now_s() + 1;
      return;
    }
    if (s.kind == Kind::stalled) {
      const int small = 4096;  // a small window: the server's queue grows soon
      ::setsockopt(s.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    }
    const int one = 1;
    ::setsockopt(s.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.u64 = static_cast<std::uint64_t>(s.index) | std::uint64_t{s.generation} << 32;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, s.fd, &ev);
    if (::connect(s.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 &&
        errno != EINPROGRESS) {
      ++stats.connect_failures;
      finish(s, false, 0);
      return;
    }
    ++stats.connects;
    if (s.kind == Kind::api) return;
    s.ws = std::make_unique<ClientProtocol>(ConnectionOptions{.role = Role::client});
    const std::string host = "127.0.0.1:" + std::to_string(o.port);
    (void)s.ws->start({.host = host, .target = s.push ? "/connection/websocket" : "/echo"});
  }

  // Ends a connection. `by_server`: the server closed it (with `code`, 0
  // for no close frame), which only the roles that expect it may see.
  void finish(Slot& s, bool by_server, int code) {
    if (s.fd >= 0) ::close(s.fd);  // also leaves the epoll set
    if (s.phase == Phase::open || s.phase == Phase::closing) --open_now;
    s.fd = -1;
    s.ws.reset();
    ++s.generation;
    const bool was_open = s.phase == Phase::open || s.phase == Phase::closing;
    s.phase = Phase::idle;
    const double t = now_s();
    if (s.kind == Kind::stalled && !s.we_close && was_open) {
      ++stats.stalled_shed;
      ++stats.shed_codes[code];
    } else if (by_server && !s.we_close && healthy(s)) {
      ++stats.unexpected_closes;
      ++stats.unexpected_codes[code];
    }
    if (s.kind == Kind::storm) ++stats.storm_cycles;
    switch (s.kind) {
      case Kind::storm: s.next_action = 0; break;  // the next burst
      case Kind::reset: s.next_action = t + uniform(0.2, 1.0); break;
      case Kind::stalled: s.next_action = t + 1; break;
      case Kind::api: s.next_action = t; break;
      default: s.next_action = t + 0.5; break;
    }
  }

  void reset_connection(Slot& s) {
    const linger hard{1, 0};
    ::setsockopt(s.fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    ++stats.resets;
    s.we_close = true;
    finish(s, false, 0);
  }

  // Writes what the connection's protocol queued; false when it ended.
  bool flush(Slot& s) {
    if (!s.ws || s.phase == Phase::connecting) return true;
    auto& out = s.ws->output();
    while (!out.empty()) {
      std::array<std::span<const std::uint8_t>, 16> pieces;
      const std::size_t count = out.gather(pieces);
      std::array<iovec, 16> iov;
      for (std::size_t i = 0; i < count; ++i) {
        iov[i] = {const_cast<std::uint8_t*>(pieces[i].data()), pieces[i].size()};
      }
      msghdr m{};
      m.msg_iov = iov.data();
      m.msg_iovlen = count;
      const ssize_t n = ::sendmsg(s.fd, &m, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return true;
        finish(s, true, 0);
        return false;
      }
      out.consume(static_cast<std::size_t>(n));
    }
    return true;
  }

  bool send_raw(Slot& s, std::string_view bytes) {
    return ::send(s.fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) >= 0 || errno == EAGAIN;
  }

  // ------------------------------------------------------------ events

  void on_event(std::uint64_t key, std::uint32_t events) {
    const auto index = static_cast<std::size_t>(key & 0xffffffffu);
    if (index >= slots.size()) return;
    Slot& s = slots[index];
    if (s.generation != static_cast<std::uint32_t>(key >> 32) || s.fd < 0) return;
    if (s.phase == Phase::connecting && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        ++stats.connect_failures;
        finish(s, false, 0);
        return;
      }
      s.phase = Phase::handshaking;
      if (s.kind == Kind::api) return on_api_open(s);
      if (s.kind == Kind::reset && s.cycle % 3 == 1) {
        // Half of the upgrade request, then RST.
        std::string request;
        s.ws->output().drain_to(request);
        send_raw(s, std::string_view(request).substr(0, request.size() / 2));
        return reset_connection(s);
      }
      if (s.kind == Kind::storm && s.cycle % 4 == 3) {
        // The request, then gone before the answer.
        if (!flush(s)) return;
        s.we_close = true;
        return finish(s, false, 0);
      }
    }
    if (events & EPOLLOUT) {
      if (!flush(s)) return;
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) read_from(s);
  }

  void read_from(Slot& s) {
    if (!s.reading) return;
    const std::uint32_t generation = s.generation;
    while (s.generation == generation) {
      const ssize_t n = ::recv(s.fd, read_buffer.data(), read_buffer.size(), 0);
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return;
        return finish(s, true, 0);
      }
      if (n == 0) {
        if (s.kind == Kind::api) return finish(s, true, 0);
        if (s.ws && s.ws->is_open() && s.ws->connection().close_received()) {
          return finish(s, true, static_cast<int>(s.ws->connection().peer_close_code()));
        }
        return finish(s, true, 0);
      }
      if (s.kind == Kind::api) {
        s.http_in.append(reinterpret_cast<const char*>(read_buffer.data()),
                         static_cast<std::size_t>(n));
        on_api_input(s);
        continue;
      }
      std::span<std::uint8_t> input(read_buffer.data(), static_cast<std::size_t>(n));
      while (s.generation == generation && s.ws) {
        const LifecycleEvent e = s.ws->receive(input);
        if (!e) break;
        on_ws_event(s, e);
      }
      if (s.generation == generation && !flush(s)) return;
    }
  }

  void on_ws_event(Slot& s, const LifecycleEvent& e) {
    if (e.handshake == HandshakeEvent::opened) {
      s.phase = Phase::open;
      stats.peak_open = std::max(stats.peak_open, ++open_now);
      return on_open(s);
    }
    if (e.handshake == HandshakeEvent::rejected || e.handshake == HandshakeEvent::failed) {
      ++stats.handshake_failures;
      return finish(s, true, 0);
    }
    switch (e.frame.type) {
      case EventType::message:
        if (s.push) return on_push_frame(s, e.frame.text());
        return on_echo(s, e.frame.opcode, e.frame.payload);
      case EventType::close: {
        const int code = static_cast<int>(s.ws->connection().peer_close_code());
        (void)flush(s);  // our answer to the close
        return finish(s, true, code);
      }
      case EventType::error: ++stats.protocol_errors; return finish(s, true, 1002);
      default: return;
    }
  }

  void on_open(Slot& s) {
    switch (s.kind) {
      case Kind::echo: return;  // the echo rate sends
      case Kind::storm:
        if (!s.push) {
          send_echo(s);
          (void)flush(s);
        }
        break;
      case Kind::reset: return reset_mid_frame(s);
      default: break;
    }
    if (s.push) {
      command(s, 0, 0, "\"connect\":{\"name\":\"soak\"}");
      (void)flush(s);
    }
  }

  // A text frame announcing 2,000 bytes, a third of them sent, then RST.
  void reset_mid_frame(Slot& s) {
    std::string frame = {'\x81', static_cast<char>(0x80 | 126), '\x07', '\xd0', 'k', 'e', 'y', 's'};
    const std::string body = s.push ? "{\"id\":1,\"connect\":{\"name\":\"" : "half of a message";
    for (std::size_t i = 0; i < 666; ++i) {
      frame.push_back(static_cast<char>(body[i % body.size()] ^ frame[4 + i % 4]));
    }
    (void)flush(s);
    send_raw(s, frame);
    reset_connection(s);
  }

  // ------------------------------------------------------------ echo

  // The n-th message of an echo connection: its size, kind and bytes follow
  // from (slot, cycle, n), so the echo is checked by making it again.
  Opcode make_echo(const Slot& s, std::uint64_t n, std::string& out) {
    const std::uint64_t h = (static_cast<std::uint64_t>(s.index) * 1000003 + s.cycle) * 7919 + n;
    std::size_t size = 16 + h % 240;
    if (n % 97 == 5) size = 20000 + h % 5000;
    out = std::to_string(s.index) + ":" + std::to_string(s.cycle) + ":" + std::to_string(n) + ":";
    while (out.size() < size) out.push_back(static_cast<char>('a' + (out.size() * 31 + h) % 26));
    return n % 5 == 3 ? Opcode::binary : Opcode::text;
  }

  void send_echo(Slot& s) {
    const std::uint64_t n = s.echo_sent++;
    const Opcode op = make_echo(s, n, scratch);
    const auto bytes = duplex::protocol::Connection::as_bytes(scratch);
    if (n % 13 == 7) {  // in two fragments
      const std::size_t half = bytes.size() / 2;
      (void)s.ws->connection().send_fragment(op, bytes.first(half), false);
      (void)s.ws->connection().send_fragment(Opcode::continuation, bytes.subspan(half), true);
    } else {
      (void)s.ws->connection().send(op, bytes);
    }
    ++stats.echo_sent;
  }

  void on_echo(Slot& s, Opcode op, std::span<const std::uint8_t> payload) {
    ++stats.echo_received;
    if (s.echo_received >= s.echo_sent) {
      ++stats.echo_mismatched;  // an echo of nothing we sent
      return;
    }
    const Opcode expected = make_echo(s, s.echo_received++, scratch);
    if (op != expected || payload.size() != scratch.size() ||
        std::memcmp(payload.data(), scratch.data(), scratch.size()) != 0) {
      ++stats.echo_mismatched;
    }
    if (s.kind == Kind::storm) close_cleanly(s);
  }

  void close_cleanly(Slot& s) {
    s.we_close = true;
    s.phase = Phase::closing;
    (void)s.ws->connection().close(duplex::CloseCode::normal, "soak");
    (void)flush(s);
  }

  // ------------------------------------------------------------ push

  void command(Slot& s, std::uint8_t method, int channel, std::string_view body) {
    const std::uint64_t id = s.next_id++;
    scratch = "{\"id\":" + std::to_string(id) + "," + std::string(body) + "}";
    (void)s.ws->connection().send_text(scratch);
    s.commands.push_back({id, method, static_cast<std::uint16_t>(channel)});
  }

  void subscribe(Slot& s, int c) {
    s.channels[static_cast<std::size_t>(c)].state = ChannelState::subscribing;
    command(s, 1, c, "\"subscribe\":{\"channel\":\"" + channel_name(c) + "\"}");
    ++stats.subscribes;
  }

  void unsubscribe(Slot& s, int c) {
    s.channels[static_cast<std::size_t>(c)].state = ChannelState::unsubscribing;
    command(s, 2, c, "\"unsubscribe\":{\"channel\":\"" + channel_name(c) + "\"}");
    ++stats.unsubscribes;
  }

  void publish(Slot& s, int c, std::string_view pad) {
    const std::uint64_t seq = s.seq[static_cast<std::size_t>(c)]++;
    const int publisher = s.kind == Kind::fire ? 4 : s.number;
    command(s, 3, c,
            "\"publish\":{\"channel\":\"" + channel_name(c) +
                "\",\"data\":{\"p\":" + std::to_string(publisher) +
                ",\"s\":" + std::to_string(seq) + ",\"x\":\"" + std::string(pad) + "\"}}");
    ++stats.published;
  }

  void on_push_frame(Slot& s, std::string_view text) {
    while (!text.empty()) {
      const std::size_t end = text.find('\n');
      const std::string_view line = text.substr(0, end);
      text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
      if (line.empty()) continue;
      if (line == "{}") {  // the server's ping
        ++stats.pings;
        (void)s.ws->connection().send_text("{}");
        continue;
      }
      if (!on_publication_fast(s, line)) on_push_line(s, line);
      if (s.phase == Phase::idle) return;
    }
  }

  // The common case without a JSON parser: the server writes a publication
  // as {"push":{"channel":NAME,"pub":{"data":DATA[,"info":..],"offset":N}}}
  // and our DATA as {"p":P,"s":S,"x":".."}. Anything else takes the parser.
  bool on_publication_fast(Slot& s, std::string_view line) {
    constexpr std::string_view head = "{\"push\":{\"channel\":\"";
    constexpr std::string_view data = "\",\"pub\":{\"data\":{\"p\":";
    if (line.substr(0, head.size()) != head) return false;
    const std::size_t name_end = line.find('"', head.size());
    if (name_end == std::string_view::npos || line.substr(name_end, data.size()) != data)
      return false;
    const int c = channel_index(line.substr(head.size(), name_end - head.size()));
    const char* p = line.data() + name_end + data.size();
    const char* last = line.data() + line.size();
    int publisher = -1;
    std::int64_t seq = -1;
    std::uint64_t offset = 0;
    auto r = std::from_chars(p, last, publisher);
    if (r.ec != std::errc{} || std::string_view(r.ptr, 5) != ",\"s\":") return false;
    r = std::from_chars(r.ptr + 5, last, seq);
    const std::size_t at = line.rfind("\"offset\":");
    if (r.ec != std::errc{} || at == std::string_view::npos) return false;
    std::from_chars(line.data() + at + 9, last, offset);
    on_publication(s, c, publisher, seq, offset);
    return true;
  }

  void on_push_line(Slot& s, std::string_view line) {
    const json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      ++stats.protocol_errors;
      return;
    }
    if (const auto push = j.find("push"); push != j.end()) {
      const int c = channel_index(push->value("channel", ""));
      if (const auto pub = push->find("pub"); pub != push->end()) {
        const json& d = (*pub)["data"];
        on_publication(s, c, d.value("p", -1), d.value("s", std::int64_t{-1}),
                       pub->value("offset", std::uint64_t{0}));
      } else if (push->contains("unsubscribe") && healthy(s)) {
        ++stats.command_errors;  // the server ended a subscription
      }
      return;
    }
    const std::uint64_t id = j.value("id", std::uint64_t{0});
    if (s.commands.empty() || s.commands.front().id != id) {
      ++stats.command_errors;  // a reply nobody asked for, or out of order
      return;
    }
    const Command cmd = s.commands.front();
    s.commands.pop_front();
    if (j.contains("error")) {
      ++stats.command_errors;
      std::fprintf(stderr, "soak: command %u on %s: %s\n", cmd.method,
                   channel_name(cmd.channel).c_str(), j["error"].dump().c_str());
      return;
    }
    on_reply(s, cmd, j);
  }

  void on_reply(Slot& s, const Command& cmd, const json& j) {
    ChannelState* ch =
        cmd.method == 1 || cmd.method == 2 || cmd.method == 4 ? &s.channels[cmd.channel] : nullptr;
    switch (cmd.method) {
      case 0:  // connected
        s.connected = true;
        if (s.kind == Kind::subscriber) {
          const int a = s.number % o.channels;
          subscribe(s, a);
          if (o.channels > 1)
            subscribe(s, (a + 1 + s.number / o.channels % (o.channels - 1)) % o.channels);
          if (s.number % 20 == 0 && s.number < 1000) subscribe(s, o.channels);  // <= 50
        } else if (s.kind == Kind::stalled) {
          subscribe(s, o.channels);
        } else if (s.kind == Kind::storm) {
          subscribe(s, static_cast<int>(s.cycle % static_cast<std::uint32_t>(o.channels)));
        } else if (s.kind == Kind::churn) {
          s.next_action = now_s() + uniform(0.1, 1.0);
        }
        break;
      case 1: {  // subscribed
        const json& r = j["subscribe"];
        ch->state = ChannelState::subscribed;
        ch->last_seq.fill(-1);
        ch->positioned = r.contains("offset");
        ch->last_offset = r.value("offset", std::uint64_t{0});
        std::vector<std::uint64_t> early;
        early.swap(ch->early);
        for (const std::uint64_t off : early) check_offset(*ch, off);
        if (s.kind == Kind::stalled) {
          s.reading = false;  // stop reading: the server's queue grows
          s.stall = 1;
          s.next_action = now_s() + o.stall_seconds;
          s.stall_mark = fire_bytes;
          ++stats.stalls;
        } else if (s.kind == Kind::storm) {
          s.we_close = true;  // gone without a close frame
          finish(s, false, 0);
          return;
        } else if (s.kind == Kind::churn) {
          s.next_action = now_s() + uniform(0.2, 2.0);
        }
        break;
      }
      case 2:  // unsubscribed
        ch->state = ChannelState::none;
        ch->early.clear();
        if (s.kind == Kind::churn) s.next_action = now_s() + uniform(0.1, 1.0);
        break;
      case 3:
        ++stats.publish_acks;
        if (s.kind == Kind::fire) fire_bytes += fire_pad.size();
        break;
      case 4: {
        const std::uint64_t t = j["history"].value("offset", std::uint64_t{0});
        top[cmd.channel] = std::max(top[cmd.channel], t);
        break;
      }
      default: break;
    }
  }

  void check_offset(ChannelState& ch, std::uint64_t offset) {
    ++stats.checked;
    if (!ch.positioned) {  // no offset in the reply: the first one sets it
      ch.positioned = true;
      ch.last_offset = offset;
      return;
    }
    if (offset == ch.last_offset + 1) {
      ch.last_offset = offset;
    } else if (offset > ch.last_offset + 1) {
      stats.lost += offset - ch.last_offset - 1;
      ch.last_offset = offset;
    } else if (offset == ch.last_offset) {
      ++stats.duplicated;
    } else {
      ++stats.reordered;
    }
  }

  void on_publication(Slot& s, int c, int publisher, std::int64_t seq, std::uint64_t offset) {
    ++stats.deliveries;
    if (c < 0 || publisher < 0 || publisher >= kMaxPublishers || offset == 0) {
      ++stats.protocol_errors;  // not a publication of ours, or no offset
      return;
    }
    if (!healthy(s)) return;
    ChannelState& ch = s.channels[static_cast<std::size_t>(c)];
    switch (ch.state) {
      case ChannelState::none: ++stats.after_unsubscribe; return;
      case ChannelState::subscribing: ch.early.push_back(offset); return;
      default: break;
    }
    // Each publisher's own order: numbers only grow (gaps are the offsets' to count).
    std::int64_t& last = ch.last_seq[static_cast<std::size_t>(publisher)];
    if (seq == last)
      ++stats.duplicated;
    else if (seq < last)
      ++stats.reordered;
    else
      last = seq;
    check_offset(ch, offset);
  }

  // ------------------------------------------------------------ HTTP API

  void on_api_open(Slot& s) {
    s.phase = Phase::open;
    stats.peak_open = std::max(stats.peak_open, ++open_now);
  }

  void api_publish(Slot& s) {
    const int c = static_cast<int>(s.seq[static_cast<std::size_t>(o.channels)]++ %
                                   static_cast<std::uint64_t>(o.channels));
    const std::uint64_t seq = s.seq[static_cast<std::size_t>(c)]++;
    const std::string body = "{\"channel\":\"" + channel_name(c) +
                             "\",\"data\":{\"p\":5,\"s\":" + std::to_string(seq) +
                             ",\"x\":\"api\"}}";
    const std::string request =
        "POST /api/publish HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\nContent-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body;
    s.http_waiting = true;
    if (!send_raw(s, request)) finish(s, true, 0);
  }

  void on_api_input(Slot& s) {
    const std::size_t head_end = s.http_in.find("\r\n\r\n");
    if (head_end == std::string::npos) return;
    const std::string head = s.http_in.substr(0, head_end);
    std::size_t length = 0;
    if (const std::size_t at = head.find("Content-Length: "); at != std::string::npos) {
      std::from_chars(head.data() + at + 16, head.data() + head.size(), length);
    }
    if (s.http_in.size() < head_end + 4 + length) return;
    const std::string body = s.http_in.substr(head_end + 4, length);
    s.http_in.erase(0, head_end + 4 + length);
    s.http_waiting = false;
    if (head.substr(0, 12) != "HTTP/1.1 200" || body.find("\"offset\":") == std::string::npos) {
      ++stats.api_failures;
      std::fprintf(stderr, "soak: /api/publish answered %s\n", body.c_str());
      return;
    }
    ++stats.api_published;
    ++stats.published;
    ++stats.publish_acks;
    if (head.find("Connection: close") != std::string::npos) {  // one request per connection
      s.we_close = true;
      finish(s, false, 0);
    }
  }

  // ------------------------------------------------------------ the clock

  double publish_credit = 0, fire_credit = 0, api_credit = 0, echo_credit = 0;
  std::size_t publish_cursor = 0, echo_cursor = 0;

  void pace(double dt) {
    auto credit = [dt](double& c, double rate) { c = std::min(c + rate * dt, rate * 0.1 + 1); };
    credit(publish_credit, o.publish_rate);
    credit(fire_credit, o.fire_rate);
    credit(api_credit, o.api_rate);
    credit(echo_credit, o.echo_rate);
    // Push publishers, round robin, each with at most 64 unanswered.
    for (std::size_t tries = 0; publish_credit >= 1 && tries < publisher_slots.size() * 2;) {
      Slot& s = slots[static_cast<std::size_t>(
          publisher_slots[publish_cursor++ % publisher_slots.size()])];
      if (s.phase != Phase::open || !s.connected || s.commands.size() >= 64) {
        ++tries;
        continue;
      }
      publish(s,
              static_cast<int>(s.seq[static_cast<std::size_t>(o.channels)]++ %
                               static_cast<std::uint64_t>(o.channels)),
              "x");
      (void)flush(s);
      publish_credit -= 1;
    }
    Slot& f = slots[static_cast<std::size_t>(fire_slot)];
    while (fire_credit >= 1 && f.phase == Phase::open && f.connected && f.commands.size() < 64) {
      publish(f, o.channels, fire_pad);
      fire_credit -= 1;
    }
    (void)flush(f);
    Slot& a = slots[static_cast<std::size_t>(api_slot)];
    if (api_credit >= 1 && a.phase == Phase::open && !a.http_waiting) {
      api_publish(a);
      api_credit -= 1;
    }
    // Echo clients, round robin, each with at most four in flight.
    for (std::size_t tries = 0; echo_credit >= 1 && tries < echo_slots.size();) {
      Slot& s = slots[static_cast<std::size_t>(echo_slots[echo_cursor++ % echo_slots.size()])];
      if (s.phase != Phase::open || s.echo_sent - s.echo_received >= 4) {
        ++tries;
        continue;
      }
      send_echo(s);
      (void)flush(s);
      echo_credit -= 1;
    }
  }

  // Role timers: connecting, churn steps, the end of a stall, storms.
  void timers(double t) {
    const bool storm_now = t >= next_storm;
    if (storm_now) next_storm = t + o.storm_period;
    for (Slot& s : slots) {
      if (s.phase == Phase::idle) {
        if (stopping) continue;
        if (s.kind == Kind::storm ? storm_now : t >= s.next_action) start(s);
        continue;
      }
      if (s.kind == Kind::stalled && s.stall == 1 && s.phase == Phase::open &&
          (fire_bytes - s.stall_mark >= stall_bytes || t >= s.next_action)) {
        // Read again: the server should have closed it by now, if all of
        // stall_bytes went out while it did not read.
        s.stall_full = fire_bytes - s.stall_mark >= stall_bytes;
        if (!s.stall_full) ++stats.stalls_cut_short;
        s.reading = true;
        s.stall = 2;
        s.next_action = t + 10;
        read_from(s);
        continue;
      }
      if (s.phase != Phase::open || t < s.next_action) continue;
      if (s.kind == Kind::churn && s.connected && s.commands.empty() && !stopping) {
        const int c = static_cast<int>(rng() % static_cast<unsigned>(o.channels));
        if (s.channels[static_cast<std::size_t>(c)].state == ChannelState::subscribed) {
          unsubscribe(s, c);
        } else {
          subscribe(s, c);
        }
        s.next_action = t + 60;  // the reply sets the next step
      } else if (s.kind == Kind::stalled && s.stall == 2) {
        if (s.stall_full) ++stats.stalled_not_shed;  // read again for 10 s and still open
        s.we_close = true;
        finish(s, false, 0);
        continue;
      } else {
        continue;
      }
      (void)flush(s);
    }
  }

  void poll_once(int timeout_ms) {
    std::array<epoll_event, 512> events;
    const int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), timeout_ms);
    for (int i = 0; i < n; ++i)
      on_event(events[static_cast<std::size_t>(i)].data.u64,
               events[static_cast<std::size_t>(i)].events);
  }
};

// ---------------------------------------------------------------- the run

int run(const Options& o) {
  Driver d;
  d.o = o;
  d.rng.seed(o.seed);
  d.ep = ::epoll_create1(EPOLL_CLOEXEC);
  d.addr.sin_family = AF_INET;
  d.addr.sin_port = htons(o.port);
  d.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const Sample baseline = sample_process(o.server_pid);
  d.make_slots();
  d.stall_bytes = static_cast<std::uint64_t>(o.stall_mib * 1024 * 1024);

  const double begin = now_s();
  Sample warm, peak, loaded;
  double last = begin, next_sample = begin + o.warmup;
  while (true) {
    const double t = now_s();
    if (t - begin >= o.duration) break;
    d.pace(t - last);
    d.timers(t);
    last = t;
    d.poll_once(5);
    if (t >= next_sample) {
      const Sample s = sample_process(o.server_pid);
      if (warm.rss_kib < 0) warm = s;
      peak.rss_kib = std::max(peak.rss_kib, s.rss_kib);
      peak.fds = std::max(peak.fds, s.fds);
      next_sample = t + 5;
      std::fprintf(stderr, "soak: %4.0fs open %llu rss %ld KiB fds %ld delivered %llu\n", t - begin,
                   static_cast<unsigned long long>(d.open_now), s.rss_kib, s.fds,
                   static_cast<unsigned long long>(stats.deliveries));
    }
  }
  loaded = sample_process(o.server_pid);
  peak.rss_kib = std::max(peak.rss_kib, loaded.rss_kib);

  // Stop: no new traffic; the publishers' last answers, then each channel's
  // top (a history request), then every healthy subscriber caught up to it.
  d.stopping = true;
  auto wait_until = [&d](double seconds, auto done) {
    const double until = now_s() + seconds;
    while (!done() && now_s() < until) d.poll_once(5);
    return done();
  };
  auto publishers_done = [&d] {
    for (const Slot& s : d.slots) {
      if ((s.kind == Kind::publisher || s.kind == Kind::fire) && !s.commands.empty()) return false;
      if (s.kind == Kind::api && s.http_waiting && s.phase == Phase::open) return false;
    }
    return true;
  };
  bool drained = wait_until(o.drain_seconds, publishers_done);
  Slot& asker = d.slots[static_cast<std::size_t>(d.publisher_slots[0])];
  if (asker.phase == Phase::open) {
    for (int c = 0; c <= o.channels; ++c) {
      d.command(asker, 4, c, "\"history\":{\"channel\":\"" + d.channel_name(c) + "\",\"limit\":0}");
    }
    (void)d.flush(asker);
  }
  drained = wait_until(o.drain_seconds, publishers_done) && drained;
  auto caught_up = [&d] {
    for (const Slot& s : d.slots) {
      if (!s.push || !d.healthy(s) || s.phase != Phase::open) continue;
      for (std::size_t c = 0; c < s.channels.size(); ++c) {
        const ChannelState& ch = s.channels[c];
        if (ch.state == ChannelState::subscribed && ch.positioned && ch.last_offset < d.top[c])
          return false;
      }
    }
    return true;
  };
  const bool caught = wait_until(o.drain_seconds, caught_up);
  std::uint64_t tail_lost = 0;
  for (const Slot& s : d.slots) {
    if (!s.push || !d.healthy(s) || s.phase != Phase::open) continue;
    for (std::size_t c = 0; c < s.channels.size(); ++c) {
      const ChannelState& ch = s.channels[c];
      if (ch.state == ChannelState::subscribed && ch.positioned && ch.last_offset < d.top[c])
        tail_lost += d.top[c] - ch.last_offset;
    }
  }
  stats.lost += tail_lost;

  // Close everything: a close handshake for open connections (bounded),
  // then the sockets; then the server's descriptors, back to the baseline.
  for (Slot& s : d.slots) {
    if (s.phase == Phase::open && s.ws && s.reading) {
      d.close_cleanly(s);
    } else if (s.phase != Phase::idle) {
      s.we_close = true;
      d.finish(s, false, 0);
    }
  }
  wait_until(10, [&d] { return d.open_now == 0; });
  for (Slot& s : d.slots) {
    if (s.phase != Phase::idle) {
      s.we_close = true;
      d.finish(s, false, 0);
    }
  }
  Sample after = sample_process(o.server_pid);
  for (int i = 0; i < 100 && o.server_pid > 0 && after.fds > baseline.fds + o.fd_slack; ++i) {
    ::usleep(200 * 1000);
    after = sample_process(o.server_pid);
  }

  // ------------------------------------------------------------ figures
  auto line = [](const char* name, unsigned long long v) { std::printf("%s: %llu\n", name, v); };
  std::printf("duration_s: %.0f\n", o.duration);
  line("connection_slots", d.slots.size());
  line("connections_made", stats.connects);
  line("peak_open", stats.peak_open);
  line("connect_failures", stats.connect_failures);
  line("handshake_failures", stats.handshake_failures);
  line("echo_sent", stats.echo_sent);
  line("echo_received", stats.echo_received);
  line("echo_mismatched", stats.echo_mismatched);
  line("published", stats.published);
  line("published_via_api", stats.api_published);
  line("publish_acks", stats.publish_acks);
  line("deliveries", stats.deliveries);
  line("deliveries_checked", stats.checked);
  line("lost", stats.lost);
  line("lost_at_end", tail_lost);
  line("duplicated", stats.duplicated);
  line("reordered", stats.reordered);
  line("after_unsubscribe", stats.after_unsubscribe);
  line("subscribes", stats.subscribes);
  line("unsubscribes", stats.unsubscribes);
  line("server_pings", stats.pings);
  line("stalls", stats.stalls);
  line("stalled_shed", stats.stalled_shed);
  line("stalled_not_shed", stats.stalled_not_shed);
  line("stalls_cut_short", stats.stalls_cut_short);
  for (const auto& [code, n] : stats.shed_codes)
    std::printf("stalled_shed_code_%d: %llu\n", code, static_cast<unsigned long long>(n));
  line("storm_cycles", stats.storm_cycles);
  line("resets", stats.resets);
  line("command_errors", stats.command_errors);
  line("api_failures", stats.api_failures);
  line("protocol_errors", stats.protocol_errors);
  line("unexpected_closes", stats.unexpected_closes);
  for (const auto& [code, n] : stats.unexpected_codes)
    std::printf("unexpected_close_code_%d: %llu\n", code, static_cast<unsigned long long>(n));
  std::printf(
      "rss_kib_baseline: %ld\nrss_kib_warm: %ld\nrss_kib_peak: %ld\nrss_kib_end: %ld\n"
      "rss_kib_after_close: %ld\n",
      baseline.rss_kib, warm.rss_kib, peak.rss_kib, loaded.rss_kib, after.rss_kib);
  std::printf(
      "fds_baseline: %ld\nfds_warm: %ld\nfds_peak: %ld\nfds_end: %ld\nfds_after_close: %ld\n",
      baseline.fds, warm.fds, peak.fds, loaded.fds, after.fds);

  std::vector<std::string> failures;
  auto require = [&failures](bool ok, const char* what) {
    if (!ok) failures.emplace_back(what);
  };
  require(stats.lost == 0, "lost");
  require(stats.duplicated == 0, "duplicated");
  require(stats.reordered == 0, "reordered");
  require(stats.after_unsubscribe == 0, "after_unsubscribe");
  require(stats.echo_mismatched == 0, "echo_mismatched");
  require(stats.command_errors == 0, "command_errors");
  require(stats.api_failures == 0, "api_failures");
  require(stats.protocol_errors == 0, "protocol_errors");
  require(stats.unexpected_closes == 0, "unexpected_closes");
  require(stats.handshake_failures == 0 && stats.connect_failures == 0, "connect_failures");
  require(drained && caught, "not drained");
  require(stats.checked > 0 && stats.echo_received > 0 && stats.api_published > 0,
          "no traffic checked");
  require(stats.stalled_shed > 0, "no stalled client shed");
  require(stats.stalled_not_shed == 0, "stalled clients not shed");
  if (o.server_pid > 0) {
    require(after.fds >= 0 && after.fds <= baseline.fds + o.fd_slack, "fds not back to baseline");
    require(loaded.rss_kib <= static_cast<long>(static_cast<double>(warm.rss_kib) * o.rss_factor +
                                                o.rss_slack_mib * 1024),
            "rss grew after warm-up");
  }
  if (failures.empty()) {
    std::printf("PASS\n");
    return 0;
  }
  std::printf("FAIL:");
  for (const std::string& f : failures) std::printf(" %s;", f.c_str());
  std::printf("\n");
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse_options(argc, argv, o)) {
    std::fprintf(
        stderr,
        "usage: soak_driver --port P [--server-pid PID] [--connections N>=50] "
        "[--duration S] [--warmup S] [--channels C] [--publish-rate R] [--fire-rate R] "
        "[--api-rate R] [--echo-rate R] [--stall-seconds S] [--stall-mib M] [--storm-period S] "
        "[--drain-seconds S] [--rss-factor F] [--rss-slack-mib M] [--fd-slack N] "
        "[--seed N]\n");
    return 2;
  }
  return run(o);
}
