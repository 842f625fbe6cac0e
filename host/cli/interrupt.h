/* interrupt.h — SIGINT / SIGTERM during a long CLI run: the first one sets a
 * flag, which the run checks between images, and cancels the engine's work in
 * flight (pixab_cancel), so the run stops within about one op: what is
 * complete is written, the images in flight are dropped (--resume redoes
 * them), exit 128 + signal. It also restores the default actions, so a
 * second signal stops the process at once. */
#ifndef PIXAB_CLI_INTERRUPT_H
#define PIXAB_CLI_INTERRUPT_H

/* Install the handlers (the previous actions are kept for cli_interrupt_restore). */
void cli_interrupt_install(void);
/* The signal received since cli_interrupt_install (SIGINT or SIGTERM), or 0. */
int cli_interrupted(void);
/* Put the previous actions back. */
void cli_interrupt_restore(void);

#endif
