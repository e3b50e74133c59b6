/*
 * log.h — the log module moved to common/ (both programs use it); this
 * header keeps the runner's includes as they were.
 */
#ifndef RUNNER_LOG_H
#define RUNNER_LOG_H
#include "../common/log.h"
#endif
