/* interrupt.c — the flag behind cli_interrupted (interrupt.h): a handler that
 * records the signal and gives both signals back their default action. */
#include "interrupt.h"
#include "pixab.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t received;
static const int sigs[2] = {SIGINT, SIGTERM};
static struct sigaction old[2];
static volatile sig_atomic_t installed[2]; /* a signal ignored at the start (nohup, `cmd &`) stays ignored */

static void on_signal(int sig) {
    if (!received) received = sig;
    pixab_cancel(); /* the engine stops at its next op: nothing partial is written */
    /* A second signal takes the default action: stop now. */
    for (int k = 0; k < 2; k++)
        if (installed[k]) signal(sigs[k], SIG_DFL);
}

void cli_interrupt_install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART; /* reads and writes in flight go on */
    received = 0;
    pixab_cancel_reset();
    for (int k = 0; k < 2; k++) {
        installed[k] = !sigaction(sigs[k], NULL, &old[k]) && old[k].sa_handler != SIG_IGN;
        if (installed[k]) sigaction(sigs[k], &sa, NULL);
    }
}

int cli_interrupted(void) { return received; }

void cli_interrupt_restore(void) {
    for (int k = 0; k < 2; k++)
        if (installed[k]) sigaction(sigs[k], &old[k], NULL), installed[k] = 0;
}
