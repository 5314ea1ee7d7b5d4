// bridge.c: loads libweaksup_torch.so with dlopen and keeps its function table.
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "bridge.h"

const wt_api *wtg_api = NULL;
static const wt_api *(*wtg_get)(int) = NULL;

int wtg_load(const char *path, char **err) {
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		const char *msg = dlerror();
		*err = strdup(msg != NULL ? msg : "dlopen failed");
		return -1;
	}
	const wt_api *(*get)(int) = (const wt_api *(*)(int))dlsym(h, "weaksup_torch_api");
	if (get == NULL) {
		*err = strdup("the library has no symbol weaksup_torch_api");
		dlclose(h);
		return -1;
	}
	const wt_api *api = get(WT_ABI_VERSION);
	if (api == NULL) {
		char msg[128];
		snprintf(msg, sizeof msg, "the library was built for another ABI version than %d, this program's", WT_ABI_VERSION);
		*err = strdup(msg);
		dlclose(h);
		return -1;
	}
	wtg_api = api;
	wtg_get = get;
	return 0;
}

int wtg_accepts_abi(int version) { return wtg_get != NULL && wtg_get(version) != NULL; }
