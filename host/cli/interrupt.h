/* interrupt.h — SIGINT / SIGTERM during a long CLI run: the first one only
 * sets a flag, which the run checks between images to stop cleanly (finish
 * what is in flight, write what is complete, exit 128 + signal); it also
 * restores the default actions, so a second signal stops the process at once. */
#ifndef PIXAB_CLI_INTERRUPT_H
#define PIXAB_CLI_INTERRUPT_H

/* Install the handlers (the previous actions are kept for cli_interrupt_restore). */
void cli_interrupt_install(void);
/* The signal received since cli_interrupt_install (SIGINT or SIGTERM), or 0. */
int cli_interrupted(void);
/* Put the previous actions back. */
void cli_interrupt_restore(void);

#endif
