// bridge.c: loads libweaksup_torch.so with dlopen and keeps its function table.
#include <dlfcn.h>
#include <string.h>

#include "bridge.h"

const wt_api *wtg_api = NULL;

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
		*err = strdup("the library was built for another ABI version");
		dlclose(h);
		return -1;
	}
	wtg_api = api;
	return 0;
}
