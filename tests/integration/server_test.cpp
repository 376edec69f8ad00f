// The server over real sockets: routes, the upgrade hook, Origin checks,
// plain HTTP and static files.
#include "raw_client.hpp"
#include "running_server.hpp"

#include <duplex/client.hpp>

#include <gtest/gtest.h>

#include <thread>

#include <filesystem>
#include <fstream>

namespace duplex::test {
namespace {

using namespace std::chrono_literals;

void echo_routes(Server& s) {
  s.websocket("/echo", {.on_message = [](WebSocket& ws, Message m) { ws.send(m.data, m.opcode); }});
  s.websocket("/reject", {.on_upgrade = [](Upgrade& u) { u.reject(403, "rejected by hook"); }});
  // A typed route: the hook fills in the connection's data.
  struct Greeting {
    std::string text;
  };
  s.websocket<Greeting>("/protocol",
                        {
                            .on_upgrade =
                                [](Upgrade& u, Greeting& greeting) {
                                  for (auto p : u.subprotocols()) {
                                    if (p == "chat.v2" || p == "chat.v1") {
                                      u.accept(p);
                                      break;
                                    }
                                  }
                                  u.add_header("X-Route", "protocol");
                                  greeting.text = "hello from the hook";
                                },
                            .on_open =
                                [](WebSocket& ws, Greeting& greeting) {
                                  ws.send_text(std::string(ws.subprotocol()) + "|" + greeting.text);
                                },
                        });
  s.http("/health", [](const HttpRequest& r, HttpResponse& res) {
    res.body = "ok " + std::string(r.query) + "\n";
    res.headers.emplace_back("X-Health", "yes");
  });
}

TEST(Server, EchoesEverySizeThroughOurOwnClient) {
  RunningServer rs({}, echo_routes);
  Client client;
  std::vector<std::size_t> sizes{0, 1, 125, 126, 127, 65535, 65536, 1 << 20};
  std::size_t next = 0;
  std::vector<std::string> echoed;
  const auto payload = [](std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 26);
    return s;
  };
  CloseCode closed = CloseCode::abnormal;
  ASSERT_FALSE(
      client.connect(rs.url("/echo"), {},
                     {.on_open = [&](WebSocket& ws) { ws.send_text(payload(sizes[next])); },
                      .on_message =
                          [&](WebSocket& ws, Message m) {
                            echoed.emplace_back(m.data);
                            if (++next < sizes.size()) {
                              ws.send_text(payload(sizes[next]));
                            } else {
                              ws.close(CloseCode::normal, "done");
                            }
                          },
                      .on_close = [&](WebSocket&, CloseCode c, std::string_view) { closed = c; }}));
  client.run();
  ASSERT_EQ(echoed.size(), sizes.size());
  for (std::size_t i = 0; i < sizes.size(); ++i)
    EXPECT_EQ(echoed[i], payload(sizes[i])) << sizes[i];
  EXPECT_EQ(closed, CloseCode::normal);
}

TEST(Server, HookRejectionReachesTheClientWithStatusAndBody) {
  RunningServer rs({}, echo_routes);
  Client client;
  ConnectError error;
  bool opened = false;
  ASSERT_FALSE(client.connect(rs.url("/reject"), {},
                              {.on_open = [&](WebSocket&) { opened = true; },
                               .on_error = [&](const ConnectError& e) { error = e; }}));
  client.run();
  EXPECT_FALSE(opened);
  EXPECT_EQ(error.error, HandshakeError::rejected);
  EXPECT_EQ(error.http_status, 403);
  EXPECT_EQ(error.http_body, "rejected by hook");
  EXPECT_NE(error.message().find("403 Forbidden: rejected by hook"), std::string::npos);
}

TEST(Server, HookChoosesSubprotocolAddsHeadersAndAttachesData) {
  RunningServer rs({}, echo_routes);
  RawClient raw(rs.port());
  const std::vector<std::string> offered{"chat.v3", "chat.v1", "chat.v2"};
  raw.send(upgrade_request({.host = "127.0.0.1", .target = "/protocol", .subprotocols = offered}));
  const std::string response = raw.read_http_response();
  EXPECT_NE(response.find("Sec-WebSocket-Protocol: chat.v1\r\n"), std::string::npos) << response;
  EXPECT_NE(response.find("X-Route: protocol\r\n"), std::string::npos);

  Client client;
  std::string first;
  ClientOptions options;
  options.subprotocols = {"chat.v2"};
  ASSERT_FALSE(
      client.connect(rs.url("/protocol"), options, {.on_message = [&](WebSocket& ws, Message m) {
                       first = std::string(m.data);
                       EXPECT_EQ(ws.subprotocol(), "chat.v2");
                       ws.close();
                     }}));
  client.run();
  EXPECT_EQ(first, "chat.v2|hello from the hook");
}

TEST(Server, UnknownPathIs404AndPlainGetOfAWebSocketRouteIs426) {
  RunningServer rs({}, echo_routes);
  {
    RawClient raw(rs.port());
    raw.upgrade("/echo");  // sanity: the route exists
  }
  RawClient a(rs.port());
  a.send(upgrade_request({.host = "h", .target = "/nowhere"}));
  EXPECT_EQ(a.read_http_response().rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u);

  RawClient b(rs.port());
  b.send("GET /echo HTTP/1.1\r\nHost: h\r\n\r\n");
  const std::string r = b.read_http_response();
  EXPECT_EQ(r.rfind("HTTP/1.1 426 Upgrade Required\r\n", 0), 0u) << r;
  EXPECT_NE(r.find("Sec-WebSocket-Version: 13"), std::string::npos);
}

TEST(Server, BadHandshakesGetSpecificStatuses) {
  RunningServer rs({}, echo_routes);
  struct Case {
    std::string request;
    std::string status_line;
  };
  const std::string key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
  const Case cases[] = {
      {"GET /echo HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + key +
           "Sec-WebSocket-Version: 8\r\n\r\n",
       "HTTP/1.1 426 Upgrade Required"},
      {"GET /echo HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       "Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n",
       "HTTP/1.1 400 Bad Request"},
      {"GET /echo HTTP/1.1\r\nHost : h\r\n\r\n", "HTTP/1.1 400 Bad Request"},
      {"POST /echo HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + key +
           "Sec-WebSocket-Version: 13\r\n\r\n",
       "HTTP/1.1 405 Method Not Allowed"},
      {"GET /echo HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(20000, 'x') + "\r\n\r\n",
       "HTTP/1.1 431 Request Header Fields Too Large"},
  };
  for (const Case& c : cases) {
    RawClient raw(rs.port());
    raw.send(c.request);
    const std::string r = raw.read_http_response();
    EXPECT_EQ(r.rfind(c.status_line + "\r\n", 0), 0u)
        << c.status_line << " got: " << r.substr(0, 60);
    EXPECT_TRUE(raw.closed_within(2s)) << "the server closes after a rejection";
  }
}

TEST(Server, ABareLineFeedRequestIsAnswered400AtOnce) {
  RunningServer rs({}, echo_routes);
  RawClient raw(rs.port());
  raw.send("GET /health HTTP/1.1\nHost: h\n\n");
  // Not left to the 10 s handshake timer: the answer comes at once.
  const std::string r = raw.read_http_response(std::chrono::seconds(3));
  EXPECT_EQ(r.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << r;
  EXPECT_NE(r.find("CRLF"), std::string::npos) << r;
}

TEST(Server, ARequestInPiecesIsCollected) {
  RunningServer rs({}, echo_routes);
  RawClient raw(rs.port());
  const std::string request = upgrade_request({.host = "127.0.0.1", .target = "/echo"});
  // Three pieces, the first ending inside the request line, with pauses.
  const std::size_t cuts[] = {0, 7, request.size() / 2, request.size()};
  for (int i = 0; i < 3; ++i) {
    raw.send(request.substr(cuts[i], cuts[i + 1] - cuts[i]));
    std::this_thread::sleep_for(20ms);
  }
  const std::string response = raw.read_http_response();
  EXPECT_EQ(response.rfind("HTTP/1.1 101 Switching Protocols\r\n", 0), 0u) << response;
  raw.send_frame(Opcode::text, "after the pieces");
  const auto echoed = raw.read_frame();
  ASSERT_TRUE(echoed.has_value());
  EXPECT_EQ(echoed->payload, "after the pieces");
}

TEST(Server, OriginOutsideTheAllowListIs403) {
  ServerOptions o;
  o.allowed_origins = {"https://good.example"};
  RunningServer rs(o, echo_routes);
  RawClient bad(rs.port());
  bad.send(upgrade_request({.host = "h", .target = "/echo", .origin = "https://evil.example"}));
  const std::string r = bad.read_http_response();
  EXPECT_EQ(r.rfind("HTTP/1.1 403 Forbidden\r\n", 0), 0u) << r;
  EXPECT_NE(r.find("Origin not allowed"), std::string::npos);

  RawClient good(rs.port());
  EXPECT_NO_THROW(good.upgrade("/echo", "Origin: https://good.example\r\n"));
  RawClient no_origin(rs.port());  // non-browser clients send none
  EXPECT_NO_THROW(no_origin.upgrade("/echo"));
}

TEST(Server, HttpHandlerGetHeadAndOtherMethods) {
  RunningServer rs({}, echo_routes);
  RawClient get(rs.port());
  get.send("GET /health?x=1 HTTP/1.1\r\nHost: h\r\n\r\n");
  const std::string r = get.read_http_response();
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_NE(r.find("X-Health: yes\r\n"), std::string::npos);
  EXPECT_NE(r.find("Content-Length: 7\r\n"), std::string::npos);
  EXPECT_EQ(r.substr(r.size() - 7), "ok x=1\n");

  RawClient head(rs.port());
  head.send("HEAD /health?x=1 HTTP/1.1\r\nHost: h\r\n\r\n");
  std::string h;
  EXPECT_TRUE(head.closed_within(2s, &h));
  EXPECT_NE(h.find("Content-Length: 7\r\n"), std::string::npos) << "same headers as GET";
  EXPECT_EQ(h.substr(h.size() - 4), "\r\n\r\n") << "and no body";

  RawClient post(rs.port());
  post.send("POST /health HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
  const std::string p = post.read_http_response();
  EXPECT_EQ(p.rfind("HTTP/1.1 405 Method Not Allowed\r\n", 0), 0u);
  EXPECT_NE(p.find("Allow: GET, HEAD\r\n"), std::string::npos);
}

TEST(Server, PostHandlerGetsTheBodyWholeOrInPiecesAndItsLimits) {
  ServerOptions o;
  o.max_http_body = 64;
  RunningServer rs(o, [](Server& s) {
    s.http_post("/api/echo", [](const HttpRequest& r, HttpResponse& res) {
      res.body = std::string(r.method) + " " + std::string(r.body);
    });
  });
  auto answer = [&](const std::string& request) {
    RawClient c(rs.port());
    c.send(request);
    std::string r;
    c.closed_within(2s, &r);
    return r;
  };
  const std::string whole =
      answer("POST /api/echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_EQ(whole.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << whole;
  EXPECT_EQ(whole.substr(whole.size() - 10), "POST hello");

  // The body in pieces after the head, the way curl sends a larger one.
  RawClient pieces(rs.port());
  pieces.send(
      "POST /api/echo HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n"
      "Expect: 100-continue\r\n\r\n");
  std::string cont;
  while (cont.find("\r\n\r\n") == std::string::npos) {
    const std::string more = pieces.read_some(2s);
    ASSERT_FALSE(more.empty()) << "no 100 Continue";
    cont += more;
  }
  EXPECT_EQ(cont, "HTTP/1.1 100 Continue\r\n\r\n");
  pieces.send("hello");
  std::this_thread::sleep_for(20ms);
  pieces.send(" world");
  std::string r;
  EXPECT_TRUE(pieces.closed_within(2s, &r));
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
  EXPECT_EQ(r.substr(r.size() - 16), "POST hello world");

  EXPECT_EQ(answer("POST /api/echo HTTP/1.1\r\nHost: h\r\n\r\n").rfind("HTTP/1.1 411 ", 0), 0u);
  EXPECT_EQ(answer("POST /api/echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "5\r\nhello\r\n0\r\n\r\n")
                .rfind("HTTP/1.1 411 ", 0),
            0u);
  EXPECT_EQ(answer("POST /api/echo HTTP/1.1\r\nHost: h\r\nContent-Length: x1\r\n\r\n")
                .rfind("HTTP/1.1 400 ", 0),
            0u);
  const std::string big =
      answer("POST /api/echo HTTP/1.1\r\nHost: h\r\nContent-Length: 65\r\n\r\n");
  EXPECT_EQ(big.rfind("HTTP/1.1 413 ", 0), 0u) << big;
  const std::string get = answer("GET /api/echo HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(get.rfind("HTTP/1.1 405 ", 0), 0u) << get;
  EXPECT_NE(get.find("Allow: POST\r\n"), std::string::npos) << get;
}

class StaticFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ =
        std::filesystem::temp_directory_path() / ("duplex-static-" + std::to_string(::getpid()));
    std::filesystem::create_directories(root_ / "site" / "sub");
    std::ofstream(root_ / "site" / "index.html") << "<h1>home</h1>";
    std::ofstream(root_ / "site" / "app.js") << "let x = 1;";
    std::ofstream(root_ / "site" / "sub" / "data.json") << "{}";
    std::ofstream(root_ / "secret.txt") << "do not serve";
    std::filesystem::create_symlink(root_ / "secret.txt", root_ / "site" / "link.txt");
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::string get(std::uint16_t port, std::string_view path, std::string_view method = "GET") {
    RawClient c(port);
    c.send(std::string(method) + " " + std::string(path) + " HTTP/1.1\r\nHost: h\r\n\r\n");
    std::string r;
    c.closed_within(2s, &r);
    return r;
  }

  std::filesystem::path root_;
};

TEST_F(StaticFiles, ServesFilesWithTheirTypeAndNothingOutsideTheRoot) {
  ServerOptions o;
  o.static_dir = (root_ / "site").string();
  RunningServer rs(o, echo_routes);
  const std::string index = get(rs.port(), "/");
  EXPECT_EQ(index.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_NE(index.find("Content-Type: text/html; charset=utf-8\r\n"), std::string::npos);
  EXPECT_NE(index.find("<h1>home</h1>"), std::string::npos);
  EXPECT_NE(get(rs.port(), "/app.js").find("Content-Type: text/javascript"), std::string::npos);
  EXPECT_NE(get(rs.port(), "/sub/data.json").find("Content-Type: application/json"),
            std::string::npos);
  const std::string head = get(rs.port(), "/app.js", "HEAD");
  EXPECT_NE(head.find("Content-Length: 10\r\n"), std::string::npos);
  EXPECT_EQ(head.find("let x"), std::string::npos);
  for (std::string_view escape :
       {"/../secret.txt", "/sub/../../secret.txt", "/%2e%2e/secret.txt",
        "/sub/%2E%2E/%2e%2e/secret.txt", "/link.txt", "/missing.txt", "/%00", "/%zz"}) {
    const std::string r = get(rs.port(), escape);
    EXPECT_EQ(r.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u) << escape;
    EXPECT_EQ(r.find("do not serve"), std::string::npos) << escape;
  }
}

}  // namespace
}  // namespace duplex::test

namespace duplex::test {
namespace {

TEST(Server, ApplicationChosenFragmentsArriveAsOneMessage) {
  RunningServer rs({}, [](Server& s) {
    s.websocket("/stream", {.on_open = [](WebSocket& ws) {
                  EXPECT_FALSE(ws.send_fragment("Hel", Opcode::text, false));
                  EXPECT_EQ(ws.send_text("interleaved"), UsageError::message_in_progress);
                  EXPECT_FALSE(ws.ping("between"));
                  EXPECT_FALSE(ws.send_fragment("lo, ", Opcode::continuation, false));
                  EXPECT_FALSE(ws.send_fragment("stream", Opcode::continuation, true));
                }});
  });
  RawClient raw(rs.port());
  raw.prepend_pending(raw.upgrade("/stream"));
  std::vector<DecodedFrame> frames;
  for (int i = 0; i < 4; ++i) {
    auto f = raw.read_frame();
    ASSERT_TRUE(f);
    frames.push_back(*f);
  }
  EXPECT_EQ(frames[0].header.opcode, 1);
  EXPECT_FALSE(frames[0].header.fin);
  EXPECT_EQ(frames[1].header.opcode, 9);
  EXPECT_EQ(frames[2].header.opcode, 0);
  EXPECT_TRUE(frames[3].header.fin);
  EXPECT_EQ(frames[0].payload + frames[2].payload + frames[3].payload, "Hello, stream");
}

}  // namespace
}  // namespace duplex::test
