// corio/corio.hpp — everything: the runtime, the channels, io.
#pragma once

#include <corio/result.hpp>
#include <corio/runtime/join_handle.hpp>
#include <corio/runtime/join_set.hpp>
#include <corio/runtime/runtime.hpp>
#include <corio/runtime/spawn_blocking.hpp>
#include <corio/runtime/task.hpp>
#include <corio/runtime/yield_now.hpp>
#include <corio/io/owned_fd.hpp>
