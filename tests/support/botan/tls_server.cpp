// A Botan 2 TLS server for the tlsaudit tests: tls_server CHAIN KEY POLICY HOST
//
// Binds an ephemeral port of HOST (the caller passes a loopback address), prints
// "LISTENING <port> <botan version> <enabled versions>" once it accepts connections, and runs one
// Botan::TLS::Server per connection, each in its own thread. The policy is a Botan text policy
// (Botan::TLS::Text_Policy: allow_tls10, allow_tls11, allow_tls12, ciphers, ...). A connection that
// finished the handshake gets a small HTTP response to its first application data; every socket
// operation times out after five seconds.
//
// Why not `botan tls_server`: it binds INADDR_ANY (every interface) and serves one client at a time.

#include <botan/auto_rng.h>
#include <botan/credentials_manager.h>
#include <botan/data_src.h>
#include <botan/pkcs8.h>
#include <botan/system_rng.h>
#include <botan/tls_callbacks.h>
#include <botan/tls_exceptn.h>
#include <botan/tls_policy.h>
#include <botan/tls_server.h>
#include <botan/tls_session_manager.h>
#include <botan/version.h>
#include <botan/x509cert.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

std::mutex output_lock;

const char HTTP_RESPONSE[] =
   "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n";

class Credentials final : public Botan::Credentials_Manager
   {
   public:
      Credentials(const std::string& chain_file, const std::string& key_file)
         {
         Botan::DataSource_Stream chain_in(chain_file);
         while(!chain_in.end_of_data())
            {
            try
               {
               m_chain.push_back(Botan::X509_Certificate(chain_in));
               }
            catch(const std::exception&)
               {
               break;  // trailing whitespace after the last certificate
               }
            }
         Botan::DataSource_Stream key_in(key_file);
         m_key = Botan::PKCS8::load_key(key_in);
         if(m_chain.empty() || !m_key)
            throw std::runtime_error("no certificate chain or key");
         }

      std::vector<Botan::X509_Certificate> cert_chain(const std::vector<std::string>& key_types,
                                                      const std::string&,
                                                      const std::string&) override
         {
         for(const auto& type : key_types)
            {
            if(type == m_key->algo_name())
               return m_chain;
            }
         return {};
         }

      Botan::Private_Key* private_key_for(const Botan::X509_Certificate&,
                                          const std::string&,
                                          const std::string&) override
         {
         return m_key.get();
         }

   private:
      std::vector<Botan::X509_Certificate> m_chain;
      std::unique_ptr<Botan::Private_Key> m_key;
   };

class Connection final : public Botan::TLS::Callbacks
   {
   public:
      explicit Connection(int fd) : m_fd(fd) {}

      void tls_emit_data(const uint8_t data[], size_t size) override
         {
         while(size > 0)
            {
            const ssize_t sent = ::send(m_fd, data, size, MSG_NOSIGNAL);
            if(sent <= 0)
               throw std::runtime_error("send failed");
            data += sent;
            size -= static_cast<size_t>(sent);
            }
         }

      void tls_record_received(uint64_t, const uint8_t[], size_t) override { m_got_data = true; }

      void tls_alert(Botan::TLS::Alert) override {}

      bool tls_session_established(const Botan::TLS::Session&) override { return true; }

      bool got_data() const { return m_got_data; }

   private:
      int m_fd;
      bool m_got_data = false;
   };

void set_timeouts(int fd, int seconds)
   {
   timeval tv{};
   tv.tv_sec = seconds;
   ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
   ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
   }

// Half-close, then read what the peer still sends (briefly) before closing: closing with unread data
// would reset the connection and could destroy an alert the peer has not read yet.
void linger_close(int fd)
   {
   ::shutdown(fd, SHUT_WR);
   set_timeouts(fd, 1);
   uint8_t buf[4096];
   while(::recv(fd, buf, sizeof(buf), 0) > 0) {}
   ::close(fd);
   }

void serve(int fd,
           Botan::TLS::Session_Manager& sessions,
           Credentials& creds,
           const Botan::TLS::Policy& policy)
   {
   set_timeouts(fd, 5);
   try
      {
      Botan::AutoSeeded_RNG rng;
      Connection callbacks(fd);
      Botan::TLS::Server server(callbacks, sessions, creds, policy, rng);
      bool answered = false;
      uint8_t buf[16384];
      while(!server.is_closed())
         {
         const ssize_t got = ::recv(fd, buf, sizeof(buf), 0);
         if(got <= 0)
            break;
         server.received_data(buf, static_cast<size_t>(got));
         if(callbacks.got_data() && !answered && server.is_active())
            {
            answered = true;
            server.send(reinterpret_cast<const uint8_t*>(HTTP_RESPONSE), sizeof(HTTP_RESPONSE) - 1);
            server.close();
            }
         }
      }
   catch(const std::exception& error)
      {
      // a refused or broken handshake is what the tests provoke; Botan has sent its alert already
      std::lock_guard<std::mutex> guard(output_lock);
      std::cout << "connection error: " << error.what() << std::endl;
      }
   linger_close(fd);
   }

std::string enabled_versions(const Botan::TLS::Policy& policy)
   {
   std::string out;
   const std::pair<bool, const char*> versions[] = {
      {policy.allow_tls10(), "TLSv1.0"},
      {policy.allow_tls11(), "TLSv1.1"},
      {policy.allow_tls12(), "TLSv1.2"},
   };
   for(const auto& [allowed, name] : versions)
      {
      if(allowed)
         out += (out.empty() ? "" : ",") + std::string(name);
      }
   return out;
   }

}  // namespace

int main(int argc, char* argv[])
   {
   if(argc != 5)
      {
      std::cerr << "usage: tls_server CHAIN KEY POLICY HOST\n";
      return 2;
      }
   try
      {
      Credentials creds(argv[1], argv[2]);
      std::ifstream policy_in(argv[3]);
      if(!policy_in)
         throw std::runtime_error(std::string("cannot read policy ") + argv[3]);
      const Botan::TLS::Text_Policy policy(policy_in);
      Botan::TLS::Session_Manager_In_Memory sessions(Botan::system_rng());

      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_port = 0;
      if(::inet_pton(AF_INET, argv[4], &address.sin_addr) != 1)
         throw std::runtime_error(std::string("not an IPv4 address: ") + argv[4]);
      const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
      if(listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
         ::listen(listener, 128) != 0)
         throw std::runtime_error(std::string("cannot listen: ") + std::strerror(errno));
      socklen_t length = sizeof(address);
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
      {
      std::lock_guard<std::mutex> guard(output_lock);
      std::cout << "LISTENING " << ntohs(address.sin_port) << " "
                << Botan::short_version_string() << " " << enabled_versions(policy) << std::endl;
      }

      while(true)
         {
         const int fd = ::accept(listener, nullptr, nullptr);
         if(fd < 0)
            continue;
         std::thread(serve, fd, std::ref(sessions), std::ref(creds), std::cref(policy)).detach();
         }
      }
   catch(const std::exception& error)
      {
      std::cerr << "tls_server: " << error.what() << std::endl;
      return 1;
      }
   }
