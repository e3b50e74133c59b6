/*
 * route_output.c — GET /jobs/<id>/output: a job's output as Server-Sent
 * Events (common/sse.c writes them). Owns the stream: who may follow (the
 * same check as GET /jobs/<id>, route_jobs_find, and a hook that shows its
 * output, response_output), the follower cap (503 + Retry-After), the
 * resume offset (Last-Event-ID), and the events:
 *
 *   event: stdout | stderr   id: the byte offset after this chunk
 *                            data: the chunk (NUL bytes left out)
 *   event: gap               data: {"from":A,"to":B}: bytes no longer kept
 *   event: tail              data: the stored output tail (no id), for a job
 *                            this daemon no longer holds live
 *   event: outcome           data: the job as GET /jobs/<id> gives it; last
 *   event: elsewhere         data: {"job_id":N,"state":"running",…}: the job
 *                            started on another instance of the store; last
 *   ": heartbeat"            a comment while the job is silent
 *
 * A running job of this daemon is streamed from its live buffer
 * (liveout.h); a finished one gets what the buffer still holds after the
 * offset (the linger) or else the stored tail, then the outcome; a queued
 * or pending one is waited for with heartbeats. With the PostgreSQL store,
 * a job that stays running without a buffer here runs on another instance:
 * 409 before the stream starts, "elsewhere" once it has.
 */
#ifndef ROUTE_OUTPUT_H
#define ROUTE_OUTPUT_H
#include "intake.h"

/* Answer RQ (path "/jobs/<id>/output") into A: a refusal, or the stream
 * written through RQ->write (A->streamed set). */
void route_output_handle(const struct intake_env *env, const struct intake_req *rq,
    struct intake_answer *a);
#endif
