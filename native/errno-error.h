// The error the addons throw for a failed system call, shaped as Node's own: { errno, code, syscall }.
#pragma once
#include <napi.h>
#include <uv.h>

#include <string.h>

#include <string>

inline Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall) {
  Napi::Error e = Napi::Error::New(env, std::string(syscall) + " " + uv_err_name(-err) + " (" + strerror(err) + ")");
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("code", Napi::String::New(env, uv_err_name(-err)));
  e.Set("syscall", Napi::String::New(env, syscall));
  return e;
}
