/* Prints, as JSON, the versions of the libraries it links and whether an
 * Ogg sync state initialises. */
#include <stdio.h>
#include <fribidi.h>
#include <json-c/json.h>
#include <ogg/ogg.h>

int main(void)
{
	ogg_sync_state oy;
	json_object *o = json_object_new_object();

	ogg_sync_init(&oy);
	json_object_object_add(o, "ogg",
			       json_object_new_string(ogg_sync_check(&oy) == 0 ? "ready" : "broken"));
	json_object_object_add(o, "json-c", json_object_new_string(json_c_version()));
	json_object_object_add(o, "fribidi", json_object_new_string(FRIBIDI_VERSION));
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	ogg_sync_clear(&oy);
	return 0;
}
