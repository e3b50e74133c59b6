/* version.h — the daemon's version, one place (header-only). */
#ifndef VERSION_H
#define VERSION_H
#define RUNNER_VERSION "0.1.0"
#endif
