
/*
 * Copyright (C) Daguanjia
 *
 * dgj_workflow_attach.h: the pure parts of attachments (what a file is,
 * what a file name may be, how it is sent back), apart from the handlers
 * so the unit tests reach them without a database.
 */


#ifndef DGJ_WORKFLOW_ATTACH_H
#define DGJ_WORKFLOW_ATTACH_H


#include "dgj_core.h"
#include "dgj_pool.h"


#define DGJ_WF_ATTACH_MAX_SIZE   (5 * 1024 * 1024)  /* bytes, as nginx's 5m */
#define DGJ_WF_ATTACH_MAX_COUNT  5                  /* per appeal */
#define DGJ_WF_ATTACH_NAME_MAX   200                /* characters */
#define DGJ_WF_ATTACH_CODE_SECS  3600   /* by query code: after submission */


typedef struct {
    const char  *media_type;        /* "image/png": what the column holds */
    const char  *ext;               /* ".png": for a default file name */
} dgj_wf_media_t;


/*
 * The type of the file from its first bytes: JPEG, PNG, GIF, WebP or PDF
 * by their signatures; NULL for anything else (HTML, SVG, executables,
 * archives, a file too short to carry a signature).  What the client
 * claims (Content-Type, the name's extension) plays no part.
 */
const dgj_wf_media_t *dgj_wf_attach_sniff(const unsigned char *p, size_t n);

/*
 * The file name of an X-File-Name header value: percent-decoded UTF-8 of
 * 1 to 200 characters, with no '/' or '\', no control character (C0,
 * DEL, C1), no bidirectional override that would disguise the extension,
 * not blank and not "." or "..".  Returns the name in pool, or NULL with
 * *why set to a sentence for the client (and NULL *why when out of
 * memory).
 */
const char *dgj_wf_attach_name(dgj_pool_t *pool, const char *raw,
    const char **why);

/*
 * The Content-Disposition value for a download of name: `attachment;
 * filename="<ASCII stand-in>"; filename*=UTF-8''<percent-encoded>` (RFC
 * 6266, RFC 5987).  The stand-in keeps letters, digits and " .-_()" and
 * puts '_' for anything else, so no quote, backslash or line break
 * reaches the header.  NULL when out of memory.
 */
char *dgj_wf_attach_disposition(dgj_pool_t *pool, const char *name);


#endif /* DGJ_WORKFLOW_ATTACH_H */
