/// \file
/// corio/corio.hpp — everything: the runtime, time, the channels, io.
#pragma once

#include <corio/result.hpp>
#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/join_set.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/spawn_blocking.hpp>
#include <corio/runtime/task.hpp>
#include <corio/runtime/time.hpp>
#include <corio/runtime/yield_now.hpp>

#include <corio/channels/broadcast.hpp>
#include <corio/channels/mpsc.hpp>
#include <corio/channels/oneshot.hpp>
#include <corio/channels/sync/semaphore.hpp>
#include <corio/channels/watch.hpp>

#include <corio/io/owned_fd.hpp>
#include <corio/channels/sync/barrier.hpp>
#include <corio/channels/sync/cancellation_token.hpp>
#include <corio/channels/sync/mutex.hpp>
#include <corio/channels/sync/notify.hpp>
#include <corio/channels/sync/rw_lock.hpp>
#include <corio/stream.hpp>
#include <corio/runtime/select.hpp>
#include <corio/runtime/join.hpp>
#include <corio/io/error.hpp>
#include <corio/io/stream_ops.hpp>
#include <corio/net/socket_addr.hpp>
#include <corio/net/tcp_listener.hpp>
#include <corio/net/tcp_stream.hpp>
#include <corio/net/udp_socket.hpp>
#include <corio/signal/signal.hpp>
#include <corio/io/buf_reader.hpp>
#include <corio/io/buf_writer.hpp>
#include <corio/io/copy.hpp>
#include <corio/net/unix_listener.hpp>
#include <corio/net/unix_stream.hpp>
#include <corio/net/resolve.hpp>
#include <corio/fs/file.hpp>
