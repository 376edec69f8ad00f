// The duplex::Upgrade an on_upgrade hook sees: a view of the validated
// request, the connection's typed data, and the decision the hook records.
#pragma once

#include "../transport/socket.hpp"

#include <duplex/protocol/server_handshake.hpp>
#include <duplex/upgrade.hpp>

#include <string>
#include <utility>
#include <vector>

namespace duplex::server {

class UpgradeDecision final : public Upgrade {
 public:
  // `data`: the connection's object for the hook to fill in, or null.
  UpgradeDecision(const protocol::UpgradeRequest& request, const transport::Address& peer,
                  void* data)
      : request_(request), peer_(peer) {
    data_ = data;
  }

  std::string_view method() const noexcept override { return request_.head.method; }
  std::string_view path() const noexcept override { return request_.head.path; }
  std::string_view query() const noexcept override { return request_.head.query; }
  std::string_view header(std::string_view name) const noexcept override {
    return request_.head.headers.get(name);
  }
  const std::vector<protocol::HttpHeader>& headers() const noexcept override {
    return request_.head.headers.fields();
  }
  std::string_view origin() const noexcept override { return request_.origin; }
  std::string remote_address() const override { return peer_.to_string(); }
  std::span<const std::string_view> subprotocols() const noexcept override {
    return request_.subprotocols;
  }
  const std::vector<protocol::Extension>& extensions() const noexcept override {
    return request_.extensions;
  }
  std::string_view server_name() const noexcept override { return server_name_; }
  void set_server_name(std::string_view name) { server_name_ = name; }

  void accept(std::string_view subprotocol) override {
    rejected_ = false;
    subprotocol_ = std::string(subprotocol);
  }
  void reject(int status, std::string_view body) override {
    rejected_ = true;
    status_ = status;
    body_ = std::string(body);
  }
  void add_header(std::string name, std::string value) override {
    header_storage_.push_back({std::move(name), std::move(value)});
  }

  bool rejected() const noexcept { return rejected_; }
  int status() const noexcept { return status_; }
  const std::string& body() const noexcept { return body_; }
  const std::string& subprotocol() const noexcept { return subprotocol_; }
  std::vector<protocol::HttpHeader> extra_headers() const {
    std::vector<protocol::HttpHeader> out;
    for (const auto& [name, value] : header_storage_) out.push_back({name, value});
    return out;
  }

 private:
  const protocol::UpgradeRequest& request_;
  const transport::Address& peer_;
  std::string_view server_name_;

  bool rejected_ = false;
  int status_ = 0;
  std::string body_;
  std::string subprotocol_;
  std::vector<std::pair<std::string, std::string>> header_storage_;
};

}  // namespace duplex::server
