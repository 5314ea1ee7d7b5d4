// bridge.c: loads libweaksup_torch.so with dlopen and keeps its function table.
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "bridge.h"

const wt_api *wtg_api = NULL;
static const wt_api *(*wtg_get)(int) = NULL;

typedef const wt_api *(*wtg_getter)(int);

int wtg_open(const char *path, const wt_api **api, void **get, char **err) {
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		const char *msg = dlerror();
		*err = strdup(msg != NULL ? msg : "dlopen failed");
		return -1;
	}
	wtg_getter g = (wtg_getter)dlsym(h, "weaksup_torch_api");
	if (g == NULL) {
		*err = strdup("the library has no symbol weaksup_torch_api");
		dlclose(h);
		return -1;
	}
	const wt_api *a = g(WT_ABI_VERSION);
	if (a == NULL) {
		char msg[128];
		snprintf(msg, sizeof msg, "the library was built for another ABI version than %d, this program's", WT_ABI_VERSION);
		*err = strdup(msg);
		dlclose(h);
		return -1;
	}
	*api = a;
	*get = (void *)g;
	return 0;
}

int wtg_version_of(const wt_api *api, char **out, char **err) {
	char *s = NULL;
	if (api->version(&s, err) != 0) return -1;
	*out = strdup(s);
	api->string_free(s);
	return 0;
}

void wtg_use(const wt_api *api, void *get) {
	wtg_api = api;
	wtg_get = (wtg_getter)get;
}

int wtg_accepts_abi(int version) { return wtg_get != NULL && wtg_get(version) != NULL; }
