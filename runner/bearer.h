/*
 * bearer.h — the bearer module moved to common/ (both programs use it); this
 * header keeps the runner's includes as they were.
 */
#ifndef RUNNER_BEARER_H
#define RUNNER_BEARER_H
#include "../common/bearer.h"
#endif
