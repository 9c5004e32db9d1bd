// strerror() wording, as keepalived's %m prints an errno: Node names the errno (err.code) and words it as libuv does,
// in lower case and sometimes otherwise ("network is unreachable"); glibc's text is kept here for those met.

const STRERROR: Readonly<Record<string, string>> = {
  EPERM: 'Operation not permitted', ENOENT: 'No such file or directory', ESRCH: 'No such process',
  EACCES: 'Permission denied', EEXIST: 'File exists', ENOTDIR: 'Not a directory', EINVAL: 'Invalid argument',
  ENOMEM: 'Cannot allocate memory', EBUSY: 'Device or resource busy', ELOOP: 'Too many levels of symbolic links',
  EAFNOSUPPORT: 'Address family not supported by protocol', EOPNOTSUPP: 'Operation not supported',
  ENOBUFS: 'No buffer space available', EPROTONOSUPPORT: 'Protocol not supported', EMSGSIZE: 'Message too long',
  EADDRNOTAVAIL: 'Cannot assign requested address', ENETUNREACH: 'Network is unreachable',
  EHOSTUNREACH: 'No route to host', ECONNREFUSED: 'Connection refused', EADDRINUSE: 'Address already in use',
};

let libuvText: Map<string, string> | undefined;

/** glibc's text for an errno name (ENETUNREACH), else libuv's, else the name. */
export function strerror(code: string): string {
  const glibc = STRERROR[code];
  if (glibc !== undefined) return glibc;
  // Only when needed, and without node:util's module facade (script-secure.ts is on `-t`'s path: see config/load.ts).
  libuvText ??= new Map([...process.getBuiltinModule('node:util').getSystemErrorMap().values()]);
  return libuvText.get(code) ?? code;
}
