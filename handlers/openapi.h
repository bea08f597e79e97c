/*
 * openapi: GET /api/v1/openapi.json — the OpenAPI document of the JSON API.
 *
 * The bytes are docs/openapi.yaml converted to JSON at build time
 * (scripts/openapi-json, a rule of CMakeLists.txt: build/<preset>/openapi.json
 * and the generated openapi_json.c that holds these symbols), so the server
 * answers the document it was built with and reads no file for it.
 */
#ifndef KT_HANDLERS_OPENAPI_H
#define KT_HANDLERS_OPENAPI_H

#include <stddef.h>

extern const unsigned char kt_openapi_json[];
extern const size_t kt_openapi_json_len;
extern const char kt_openapi_etag[]; /* "\"<32 hex digits of its SHA-256>\"" */

#endif
