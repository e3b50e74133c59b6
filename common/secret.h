/*
 * secret.h — the secret module moved to common/ (both programs use it); this
 * header keeps the runner's includes as they were.
 */
#ifndef RUNNER_SECRET_H
#define RUNNER_SECRET_H
#include "../common/secret.h"
#endif
