/*
 * utf8.h — the utf8 module moved to common/ (both programs use it); this
 * header keeps the runner's includes as they were.
 */
#ifndef RUNNER_UTF8_H
#define RUNNER_UTF8_H
#include "../common/utf8.h"
#endif
