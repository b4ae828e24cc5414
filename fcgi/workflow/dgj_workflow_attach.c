
/*
 * Copyright (C) Daguanjia
 *
 * dgj_workflow_attach.c: files attached to an appeal.  Owns the
 * appeal_attachments rows and the bytes under files_dir (var/files),
 * stored content-addressed as <ab>/<cd>/<sha256 hex>: written to a
 * temporary file, fsync'd, renamed into place, the directory fsync'd.
 *
 *   POST /api/v1/appeals/{no}/attachments       the raw file as the body
 *   GET  /api/v1/appeals/{no}/attachments       the list
 *   GET  /api/v1/appeals/{no}/attachments/{id}  the file
 *
 * The type is sniffed from the bytes, never taken from the client.  The
 * body is read with this route's own bound (5 MiB), not the pool's
 * max_body.  Everything that can refuse the upload does so before a byte
 * is written; the count (at most 5) and a repeated upload of the same
 * bytes are decided with the appeal's row locked.  A file written for a
 * row whose transaction then fails stays as an unreferenced file (never
 * served; the same bytes uploaded again reuse it): removing it could race
 * with another upload of the same bytes.
 */


#include "dgj_core.h"
#include "dgj_workflow.h"
#include "dgj_workflow_attach.h"
#include "dgj_accounts.h"
#include "dgj_clock.h"
#include "dgj_conf.h"
#include "dgj_db.h"
#include "dgj_identity.h"
#include "dgj_json.h"
#include "dgj_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>


#define DGJ_WF_ATTACH_HEX  64


/* who uploads, as the row records it */
typedef struct {
    int64_t      user;              /* 0: anonymous, by query code */
    const char  *role;
} dgj_wf_uploader_t;

/* one upload on its way into the store */
typedef struct {
    const dgj_wf_media_t  *media;
    const char            *name;
    const char            *body;
    size_t                 len;
    char                   hex[DGJ_WF_ATTACH_HEX + 1];
} dgj_wf_upload_t;


static dgj_rc_t dgj_wf_attach_uploader(dgj_req_t *r,
    const dgj_identity_t *id, const char *code, const dgj_wf_appeal_t *a,
    dgj_wf_uploader_t *up);
static dgj_rc_t dgj_wf_attach_code(dgj_req_t *r, const char *code,
    const dgj_wf_appeal_t *a);
static dgj_rc_t dgj_wf_attach_reader(dgj_req_t *r, const dgj_identity_t *id,
    const char *no, dgj_wf_appeal_t *a);
static dgj_rc_t dgj_wf_attach_store(dgj_req_t *r, const dgj_identity_t *id,
    const char *code, const char *no, dgj_wf_upload_t *u, int64_t *att,
    int *created);
static dgj_rc_t dgj_wf_attach_write(dgj_req_t *r, const dgj_wf_upload_t *u);
static dgj_rc_t dgj_wf_attach_read(dgj_req_t *r, const char *hex,
    int64_t size, char **out);
static char *dgj_wf_attach_path(dgj_req_t *r, const char *hex, int depth);
static int dgj_wf_attach_mkdir(const char *path);
static int dgj_wf_attach_fsync_dir(const char *path);
static dgj_rc_t dgj_wf_attach_reply(dgj_req_t *r, int status,
    const char *no, int64_t appeal, int64_t att);


static const dgj_wf_media_t  dgj_wf_media[] = {
    { "image/jpeg",      ".jpg" },
    { "image/png",       ".png" },
    { "image/gif",       ".gif" },
    { "image/webp",      ".webp" },
    { "application/pdf", ".pdf" }
};


static const dgj_sql_t  dgj_wf_sql_attach_mac = {
    "workflow.attach_mac",
    "SELECT HEX(query_code_mac) FROM appeals WHERE id = ?"
};

static const dgj_sql_t  dgj_wf_sql_attach_count = {
    "workflow.attach_count",
    "SELECT COUNT(*) FROM appeal_attachments WHERE appeal_id = ?"
};

static const dgj_sql_t  dgj_wf_sql_attach_same = {
    "workflow.attach_same",
    "SELECT id FROM appeal_attachments"
    " WHERE appeal_id = ? AND sha256 = ?"
    " ORDER BY id LIMIT 1"
};

static const dgj_sql_t  dgj_wf_sql_attach_insert = {
    "workflow.attach_insert",
    "INSERT INTO appeal_attachments (appeal_id, sha256, original_name,"
    "       media_type, size_bytes, uploaded_by, uploaded_role, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
};

/* the listing never names the uploader: an anonymous appeal stays so */
static const dgj_sql_t  dgj_wf_sql_attach_list = {
    "workflow.attach_list",
    "SELECT id, original_name AS name, media_type, size_bytes AS size,"
    "       sha256, uploaded_role, created_at"
    "  FROM appeal_attachments"
    " WHERE appeal_id = ? AND (? = 0 OR id = ?)"
    " ORDER BY id"
};

static const dgj_sql_t  dgj_wf_sql_attach_file = {
    "workflow.attach_file",
    "SELECT sha256, original_name, media_type, size_bytes"
    "  FROM appeal_attachments"
    " WHERE appeal_id = ? AND id = ?"
};


/* POST /api/v1/appeals/{no}/attachments */

dgj_rc_t
dgj_wf_attach_upload(dgj_req_t *r)
{
    int                 created;
    int64_t             att;
    dgj_rc_t            rc;
    const char         *no, *raw, *code, *why;
    dgj_identity_t      id;
    dgj_wf_upload_t     u;
    dgj_wf_appeal_t     a;
    dgj_wf_uploader_t   up;

    no = dgj_req_capture(r, "no");

    if (dgj_req_audit(r, "appeal.attach", no) != DGJ_OK) {
        return DGJ_ERR_NOMEM;
    }

    dgj_identity_get(r, &id);
    memset(&u, 0, sizeof(u));

    code = dgj_req_param(r, "HTTP_X_QUERY_CODE");
    if (code != NULL && *code == '\0') {
        code = NULL;
    }

    if (id.user_id == 0 && code == NULL) {
        return dgj_req_fail(r, DGJ_ERR_UNAUTH,
                            "sign in, or send the appeal's query code in"
                            " X-Query-Code");
    }

    raw = dgj_req_param(r, "HTTP_X_FILE_NAME");
    if (raw != NULL) {
        u.name = dgj_wf_attach_name(r->pool, raw, &why);
        if (u.name == NULL) {
            if (why == NULL) {
                return DGJ_ERR_NOMEM;
            }

            return dgj_req_fail_code(r, DGJ_ERR_INPUT, "invalid_file_name",
                                     "X-File-Name: %s", why);
        }
    }

    /* who may, before reading up to 5 MiB */
    rc = dgj_wf_load(r, no, 0, &a);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_wf_attach_uploader(r, &id, code, &a, &up);
    if (rc != DGJ_OK) {
        return rc;
    }

    /* this route's own bound: every other route keeps the pool's */
    r->max_body = DGJ_WF_ATTACH_MAX_SIZE;

    rc = dgj_req_body(r, &u.body, &u.len);
    if (rc == DGJ_ERR_TOO_LARGE) {
        dgj_req_fail_clear(r);
        return dgj_req_fail(r, DGJ_ERR_TOO_LARGE,
                            "a file may be at most 5 MiB");
    }

    if (rc != DGJ_OK) {
        return rc;
    }

    if (u.len == 0) {
        return dgj_req_fail_code(r, DGJ_ERR_INPUT, "empty_file",
                                 "the request body (the file) is empty");
    }

    u.media = dgj_wf_attach_sniff((const unsigned char *) u.body, u.len);
    if (u.media == NULL) {
        return dgj_req_fail_code(r, DGJ_ERR_MEDIA, "unsupported_type",
                                 "only JPEG, PNG, GIF and WebP images and"
                                 " PDF documents can be attached");
    }

    if (u.name == NULL) {
        u.name = dgj_psprintf(r->pool, "attachment%s", u.media->ext);
        if (u.name == NULL) {
            return DGJ_ERR_NOMEM;
        }
    }

    rc = dgj_db_begin(r);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_wf_attach_store(r, &id, code, no, &u, &att, &created);
    if (rc == DGJ_OK) {
        rc = dgj_db_commit(r);
    }

    if (rc != DGJ_OK) {
        dgj_db_rollback(r);
        return rc;
    }

    if (created) {
        dgj_log(DGJ_LOG_INFO, "workflow", "%s attachment %" PRId64 ": %s,"
                " %zu bytes, by %s", no, att, u.media->media_type, u.len,
                up.role);
    }

    /* the same bytes again (a retried upload) answer the first row */
    return dgj_wf_attach_reply(r, created ? 201 : 200, no, a.id, att);
}


/* GET /api/v1/appeals/{no}/attachments */

dgj_rc_t
dgj_wf_attach_list(dgj_req_t *r)
{
    json_t           *rows, *reply;
    dgj_rc_t          rc;
    const char       *no;
    dgj_identity_t    id;
    dgj_wf_appeal_t   a;

    no = dgj_req_capture(r, "no");

    if (dgj_req_audit(r, "appeal.attachments", no) != DGJ_OK) {
        return DGJ_ERR_NOMEM;
    }

    dgj_identity_get(r, &id);

    rc = dgj_wf_attach_reader(r, &id, no, &a);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_db_rows_json(r, &dgj_wf_sql_attach_list,
                          DGJ_ARGS(DGJ_I64(a.id), DGJ_I64(0), DGJ_I64(0)),
                          &rows);
    if (rc != DGJ_OK) {
        return rc;
    }

    reply = dgj_json_own(r, json_pack("{s:s, s:O, s:I, s:i}",
                                      "tracking_no", a.tracking_no,
                                      "items", rows,
                                      "count", (json_int_t)
                                               json_array_size(rows),
                                      "max", DGJ_WF_ATTACH_MAX_COUNT));
    if (reply == NULL) {
        return DGJ_ERR_NOMEM;
    }

    return dgj_reply_json(r, 200, reply);
}


/* GET /api/v1/appeals/{no}/attachments/{id} */

dgj_rc_t
dgj_wf_attach_get(dgj_req_t *r)
{
    char             *bytes, *disp;
    int64_t           att, size;
    dgj_rc_t          rc;
    const char       *no, *hex, *name, *type;
    dgj_identity_t    id;
    dgj_wf_appeal_t   a;

    bytes = NULL;
    no = dgj_req_capture(r, "no");

    if (dgj_req_audit(r, "appeal.attachment",
                      dgj_psprintf(r->pool, "%s/%s", no ? no : "-",
                                   dgj_req_capture(r, "id")))
        != DGJ_OK)
    {
        return DGJ_ERR_NOMEM;
    }

    dgj_identity_get(r, &id);

    rc = dgj_wf_attach_reader(r, &id, no, &a);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_accounts_capture_id(r, &att);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_db_row(r, &dgj_wf_sql_attach_file,
                    DGJ_ARGS(DGJ_I64(a.id), DGJ_I64(att)),
                    DGJ_OUTS(DGJ_OUT_STR(&hex), DGJ_OUT_STR(&name),
                             DGJ_OUT_STR(&type), DGJ_OUT_I64(&size)));
    if (rc == DGJ_ERR_NOT_FOUND) {
        return dgj_req_fail_code(r, DGJ_ERR_NOT_FOUND, "attachment_not_found",
                                 "this appeal has no attachment %" PRId64,
                                 att);
    }

    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_wf_attach_read(r, hex, size, &bytes);
    if (rc != DGJ_OK) {
        return rc;
    }

    disp = dgj_wf_attach_disposition(r->pool, name);
    if (disp == NULL) {
        return DGJ_ERR_NOMEM;
    }

    /*
     * Never shown inline, never cached on the way; nginx adds
     * X-Content-Type-Options: nosniff to every reply of the server.
     */
    if (dgj_req_header_add(r, "Content-Disposition", disp) != DGJ_OK
        || dgj_req_header_add(r, "Cache-Control", "private, no-store")
           != DGJ_OK
        || dgj_req_header_add(r, "Content-Security-Policy",
                              "default-src 'none'; sandbox") != DGJ_OK)
    {
        return DGJ_ERR_NOMEM;
    }

    return dgj_reply(r, 200, type, bytes, (size_t) size);
}


/*
 * The right to upload: intake, the lead department's handler, the
 * signed-in submitter, or whoever holds the query code within an hour of
 * submission; only while the appeal is not final.  404 for a caller who
 * may not even see the appeal, 403 for one who sees it without the
 * right, 409 once it is final.
 */
static dgj_rc_t
dgj_wf_attach_uploader(dgj_req_t *r, const dgj_identity_t *id,
    const char *code, const dgj_wf_appeal_t *a, dgj_wf_uploader_t *up)
{
    dgj_rc_t  rc;

    up->user = (int64_t) id->user_id;
    up->role = NULL;

    if (id->user_id != 0) {

        if (dgj_identity_has_role(id, "intake")) {
            up->role = "intake";

        } else if (dgj_identity_has_role(id, "handler")
                   && a->lead_dept != 0
                   && (uint64_t) a->lead_dept == id->dept_id)
        {
            up->role = "handler";

        } else if (a->submitter != 0
                   && (uint64_t) a->submitter == id->user_id)
        {
            up->role = dgj_identity_has_role(id, "organisation")
                       ? "organisation" : "citizen";
        }
    }

    if (up->role == NULL && code != NULL) {
        rc = dgj_wf_attach_code(r, code, a);
        if (rc != DGJ_OK) {
            return rc;
        }

        up->user = 0;
        up->role = "citizen";
    }

    if (up->role == NULL) {
        if (id->user_id == 0) {
            return dgj_req_fail(r, DGJ_ERR_UNAUTH,
                                "sign in, or send the appeal's query code in"
                                " X-Query-Code");
        }

        /* a stranger learns nothing; staff who see it learn why not */
        rc = dgj_wf_visible(r, id, a);
        if (rc != DGJ_OK) {
            return rc;
        }

        return dgj_req_fail_code(r, DGJ_ERR_FORBIDDEN, "role_forbidden",
                                 "only the submitter, intake and the lead"
                                 " department's handlers attach files");
    }

    if (dgj_wf_state_final(a->state)) {
        return dgj_req_fail_code(r, DGJ_ERR_CONFLICT, "appeal_final",
                                 "the appeal is %s (%s): no more files can"
                                 " be attached", dgj_wf_state_name(a->state),
                                 dgj_wf_state_title(a->state));
    }

    return DGJ_OK;
}


/* the query code, compared in constant time, and its one-hour window */
static dgj_rc_t
dgj_wf_attach_code(dgj_req_t *r, const char *code, const dgj_wf_appeal_t *a)
{
    int             ok;
    size_t          i, len;
    dgj_rc_t        rc;
    const char     *hex;
    unsigned char   mac[32];
    unsigned int    hi, lo;

    rc = dgj_db_row(r, &dgj_wf_sql_attach_mac, DGJ_ARGS(DGJ_I64(a->id)),
                    DGJ_OUTS(DGJ_OUT_STR(&hex)));
    if (rc != DGJ_OK) {
        return rc == DGJ_ERR_NOT_FOUND
               ? dgj_req_fail(r, DGJ_ERR_INTERNAL, "appeal vanished") : rc;
    }

    if (hex == NULL || strlen(hex) != 2 * sizeof(mac)) {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "bad query code mac");
    }

    for (i = 0; i < sizeof(mac); i++) {
        if (sscanf(hex + 2 * i, "%1x%1x", &hi, &lo) != 2) {
            return dgj_req_fail(r, DGJ_ERR_INTERNAL, "bad query code mac");
        }

        mac[i] = (unsigned char) (hi << 4 | lo);
    }

    len = strlen(code);
    ok = len <= 16 && dgj_wf_query_code_ok(r, code, mac, sizeof(mac));

    if (!ok) {
        /* as for an unknown number: a wrong code tells nothing */
        return dgj_req_fail_code(r, DGJ_ERR_NOT_FOUND, "appeal_not_found",
                                 "no appeal has this tracking number and"
                                 " query code");
    }

    if (dgj_clock_now(r->conf) > a->submitted + DGJ_WF_ATTACH_CODE_SECS) {
        return dgj_req_fail_code(r, DGJ_ERR_FORBIDDEN, "code_upload_closed",
                                 "with the query code, files can be attached"
                                 " within one hour of submission; sign in to"
                                 " attach more");
    }

    return DGJ_OK;
}


/* the right to read: staff who may see the appeal, or its submitter */
static dgj_rc_t
dgj_wf_attach_reader(dgj_req_t *r, const dgj_identity_t *id, const char *no,
    dgj_wf_appeal_t *a)
{
    dgj_rc_t  rc;

    if (id->user_id == 0) {
        return dgj_req_fail(r, DGJ_ERR_UNAUTH, "sign in to see attachments");
    }

    rc = dgj_wf_load(r, no, 0, a);
    if (rc != DGJ_OK) {
        return rc;
    }

    if (a->submitter != 0 && (uint64_t) a->submitter == id->user_id) {
        return DGJ_OK;
    }

    return dgj_wf_visible(r, id, a);
}


/*
 * Inside the transaction: the appeal locked and the right checked again
 * (it may have moved since), then the same bytes (the first row answers),
 * the count, the file and the row.
 */
static dgj_rc_t
dgj_wf_attach_store(dgj_req_t *r, const dgj_identity_t *id, const char *code,
    const char *no, dgj_wf_upload_t *u, int64_t *att, int *created)
{
    int64_t             n;
    size_t              i;
    uint64_t            ins;
    dgj_rc_t            rc;
    unsigned int        len;
    unsigned char       sha[32];
    dgj_wf_appeal_t     a;
    dgj_wf_uploader_t   up;

    static const char  hexd[] = "0123456789abcdef";

    *created = 0;

    rc = dgj_wf_load(r, no, 1, &a);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_wf_attach_uploader(r, id, code, &a, &up);
    if (rc != DGJ_OK) {
        return rc;
    }

    len = sizeof(sha);
    if (EVP_Digest(u->body, u->len, sha, &len, EVP_sha256(), NULL) != 1) {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "SHA-256 failed");
    }

    for (i = 0; i < sizeof(sha); i++) {
        u->hex[2 * i] = hexd[sha[i] >> 4];
        u->hex[2 * i + 1] = hexd[sha[i] & 0x0f];
    }

    u->hex[DGJ_WF_ATTACH_HEX] = '\0';

    rc = dgj_db_row(r, &dgj_wf_sql_attach_same,
                    DGJ_ARGS(DGJ_I64(a.id), DGJ_STR(u->hex)),
                    DGJ_OUTS(DGJ_OUT_I64(att)));
    if (rc == DGJ_OK) {
        return DGJ_OK;
    }

    if (rc != DGJ_ERR_NOT_FOUND) {
        return rc;
    }

    rc = dgj_db_row(r, &dgj_wf_sql_attach_count, DGJ_ARGS(DGJ_I64(a.id)),
                    DGJ_OUTS(DGJ_OUT_I64(&n)));
    if (rc != DGJ_OK) {
        return rc;
    }

    if (n >= DGJ_WF_ATTACH_MAX_COUNT) {
        return dgj_req_fail_code(r, DGJ_ERR_CONFLICT, "attachment_limit",
                                 "an appeal has at most %d attachments",
                                 DGJ_WF_ATTACH_MAX_COUNT);
    }

    rc = dgj_wf_attach_write(r, u);
    if (rc != DGJ_OK) {
        return rc;
    }

    rc = dgj_db_exec(r, &dgj_wf_sql_attach_insert,
                     DGJ_ARGS(DGJ_I64(a.id), DGJ_STR(u->hex),
                              DGJ_STR(u->name),
                              DGJ_STR(u->media->media_type),
                              DGJ_I64((int64_t) u->len),
                              up.user != 0 ? DGJ_I64(up.user) : DGJ_NULL,
                              DGJ_STR(up.role),
                              DGJ_STR(dgj_wf_time(r,
                                                  dgj_clock_now(r->conf)))),
                     NULL, &ins);
    if (rc != DGJ_OK) {
        return rc;
    }

    *att = (int64_t) ins;
    *created = 1;

    return DGJ_OK;
}


/*
 * The bytes into files_dir/<ab>/<cd>/<hex>, unless they are there
 * already: a temporary file in files_dir/tmp, fsync'd, renamed into
 * place, the directory fsync'd, so a crash leaves either no file or the
 * whole one.
 */
static dgj_rc_t
dgj_wf_attach_write(dgj_req_t *r, const dgj_wf_upload_t *u)
{
    int           fd;
    char         *path, *tmp, *dir1, *dir2;
    size_t        off;
    ssize_t       n;
    struct stat   st;

    if (r->conf->files_dir[0] == '\0') {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "files_dir is not set");
    }

    path = dgj_wf_attach_path(r, u->hex, 3);
    dir1 = dgj_wf_attach_path(r, u->hex, 1);
    dir2 = dgj_wf_attach_path(r, u->hex, 2);
    tmp = dgj_wf_attach_path(r, NULL, 0);

    if (path == NULL || dir1 == NULL || dir2 == NULL || tmp == NULL) {
        return DGJ_ERR_NOMEM;
    }

    if (stat(path, &st) == 0 && st.st_size == (off_t) u->len) {
        return DGJ_OK;
    }

    if (dgj_wf_attach_mkdir(tmp) != 0 || dgj_wf_attach_mkdir(dir1) != 0
        || dgj_wf_attach_mkdir(dir2) != 0)
    {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "mkdir under %s: %s",
                            r->conf->files_dir, strerror(errno));
    }

    tmp = dgj_psprintf(r->pool, "%s/upload-XXXXXX", tmp);
    if (tmp == NULL) {
        return DGJ_ERR_NOMEM;
    }

    /* mkstemp makes it 0600: personal data, the workers' alone */
    fd = mkstemp(tmp);
    if (fd == -1) {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "mkstemp %s: %s", tmp,
                            strerror(errno));
    }

    for (off = 0; off < u->len; off += (size_t) n) {
        n = write(fd, u->body + off, u->len - off);
        if (n <= 0) {
            if (n == -1 && errno == EINTR) {
                n = 0;
                continue;
            }

            goto failed;
        }
    }

    if (fsync(fd) != 0) {
        goto failed;
    }

    if (close(fd) != 0) {
        fd = -1;
        goto failed;
    }

    fd = -1;

    if (rename(tmp, path) != 0) {
        goto failed;
    }

    if (dgj_wf_attach_fsync_dir(dir2) != 0) {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "fsync %s: %s", dir2,
                            strerror(errno));
    }

    return DGJ_OK;

failed:

    dgj_req_fail(r, DGJ_ERR_INTERNAL, "storing %s: %s", u->hex,
                 strerror(errno));

    if (fd != -1) {
        (void) close(fd);
    }

    (void) unlink(tmp);

    return DGJ_ERR_INTERNAL;
}


/* the whole file, checked against the size its row records */
static dgj_rc_t
dgj_wf_attach_read(dgj_req_t *r, const char *hex, int64_t size, char **out)
{
    int           fd;
    char         *path, *buf;
    size_t        got;
    ssize_t       n;
    struct stat   st;

    if (hex == NULL || strlen(hex) != DGJ_WF_ATTACH_HEX
        || strspn(hex, "0123456789abcdef") != DGJ_WF_ATTACH_HEX
        || size < 0 || size > DGJ_WF_ATTACH_MAX_SIZE
        || r->conf->files_dir[0] == '\0')
    {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "bad attachment row");
    }

    path = dgj_wf_attach_path(r, hex, 3);
    if (path == NULL) {
        return DGJ_ERR_NOMEM;
    }

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd == -1) {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "attachment file %s: %s",
                            hex, strerror(errno));
    }

    if (fstat(fd, &st) != 0 || st.st_size != (off_t) size) {
        (void) close(fd);
        return dgj_req_fail(r, DGJ_ERR_INTERNAL,
                            "attachment file %s: not %" PRId64 " bytes",
                            hex, size);
    }

    buf = dgj_palloc(r->pool, (size_t) size + 1);
    if (buf == NULL) {
        (void) close(fd);
        return DGJ_ERR_NOMEM;
    }

    for (got = 0; got < (size_t) size; got += (size_t) n) {
        n = read(fd, buf + got, (size_t) size - got);
        if (n <= 0) {
            if (n == -1 && errno == EINTR) {
                n = 0;
                continue;
            }

            (void) close(fd);
            return dgj_req_fail(r, DGJ_ERR_INTERNAL,
                                "attachment file %s: short read", hex);
        }
    }

    (void) close(fd);
    *out = buf;

    return DGJ_OK;
}


/*
 * files_dir/<ab> (depth 1), files_dir/<ab>/<cd> (2), the file (3), or
 * with hex NULL files_dir/tmp.  In r->pool.
 */
static char *
dgj_wf_attach_path(dgj_req_t *r, const char *hex, int depth)
{
    const char  *dir;

    dir = r->conf->files_dir;

    switch (hex == NULL ? 0 : depth) {

    case 0:
        return dgj_psprintf(r->pool, "%s/tmp", dir);

    case 1:
        return dgj_psprintf(r->pool, "%s/%.2s", dir, hex);

    case 2:
        return dgj_psprintf(r->pool, "%s/%.2s/%.2s", dir, hex, hex + 2);

    default:
        return dgj_psprintf(r->pool, "%s/%.2s/%.2s/%s", dir, hex, hex + 2,
                            hex);
    }
}


static int
dgj_wf_attach_mkdir(const char *path)
{
    if (mkdir(path, 0700) == 0 || errno == EEXIST) {
        return 0;
    }

    return -1;
}


static int
dgj_wf_attach_fsync_dir(const char *path)
{
    int  fd, rc;

    fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd == -1) {
        return -1;
    }

    rc = fsync(fd);
    (void) close(fd);

    return rc;
}


static dgj_rc_t
dgj_wf_attach_reply(dgj_req_t *r, int status, const char *no,
    int64_t appeal, int64_t att)
{
    json_t      *rows, *row;
    dgj_rc_t     rc;
    const char  *loc;

    rc = dgj_db_rows_json(r, &dgj_wf_sql_attach_list,
                          DGJ_ARGS(DGJ_I64(appeal), DGJ_I64(att),
                                   DGJ_I64(att)),
                          &rows);
    if (rc != DGJ_OK) {
        return rc;
    }

    row = json_array_get(rows, 0);
    if (row == NULL) {
        return dgj_req_fail(r, DGJ_ERR_INTERNAL, "attachment %" PRId64
                            " vanished", att);
    }

    loc = dgj_psprintf(r->pool, "/api/v1/appeals/%s/attachments/%" PRId64,
                       no, att);
    if (loc == NULL
        || json_object_set_new(row, "tracking_no", json_string(no)) != 0
        || json_object_set_new(row, "url", json_string(loc)) != 0
        || (status == 201
            && dgj_req_header_add(r, "Location", loc) != DGJ_OK))
    {
        return DGJ_ERR_NOMEM;
    }

    return dgj_reply_json(r, status, row);
}


const dgj_wf_media_t *
dgj_wf_attach_sniff(const unsigned char *p, size_t n)
{
    /* the signatures of the formats themselves (JFIF/Exif, PNG, GIF, RIFF
     * WebP, PDF); each needs more bytes than it checks, so a 3-byte
     * "file" is nothing */

    if (n >= 4 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff) {
        return &dgj_wf_media[0];
    }

    if (n >= 16 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0) {
        return &dgj_wf_media[1];
    }

    if (n >= 13
        && (memcmp(p, "GIF87a", 6) == 0 || memcmp(p, "GIF89a", 6) == 0))
    {
        return &dgj_wf_media[2];
    }

    if (n >= 16 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0
        && (memcmp(p + 12, "VP8 ", 4) == 0 || memcmp(p + 12, "VP8L", 4) == 0
            || memcmp(p + 12, "VP8X", 4) == 0))
    {
        return &dgj_wf_media[3];
    }

    if (n >= 8 && memcmp(p, "%PDF-", 5) == 0) {
        return &dgj_wf_media[4];
    }

    return NULL;
}


const char *
dgj_wf_attach_name(dgj_pool_t *pool, const char *raw, const char **why)
{
    char                 *name;
    size_t                len, n, chars, blank;
    ssize_t               dec;
    const unsigned char  *p, *end;

    *why = NULL;
    len = strlen(raw);

    /* 200 characters of at most 4 bytes, each at most %XX-encoded */
    if (len > DGJ_WF_ATTACH_NAME_MAX * 12) {
        *why = "the file name is longer than 200 characters";
        return NULL;
    }

    name = dgj_palloc(pool, len + 1);
    if (name == NULL) {
        return NULL;
    }

    dec = dgj_req_unescape(name, raw, len, 0);
    if (dec < 0) {
        *why = "the file name is not properly percent-encoded";
        return NULL;
    }

    p = (const unsigned char *) name;
    end = p + dec;
    chars = 0;
    blank = 1;

    while (p < end) {
        n = dgj_req_utf8_len(p, (size_t) (end - p));
        if (n == 0) {
            *why = "the file name is not UTF-8";
            return NULL;
        }

        if ((n == 1 && (*p < 0x20 || *p == 0x7f))
            || (n == 2 && p[0] == 0xc2 && p[1] < 0xa0))
        {
            *why = "the file name must not contain control characters";
            return NULL;
        }

        /* U+200E/F, U+202A..U+202E, U+2066..U+2069: "gpj.exe" tricks */
        if (n == 3 && p[0] == 0xe2
            && ((p[1] == 0x80 && (p[2] == 0x8e || p[2] == 0x8f
                                  || (p[2] >= 0xaa && p[2] <= 0xae)))
                || (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)))
        {
            *why = "the file name must not contain direction controls";
            return NULL;
        }

        if (n == 1 && (*p == '/' || *p == '\\')) {
            *why = "the file name must not contain '/' or '\\'";
            return NULL;
        }

        if (!(n == 1 && (*p == ' ' || *p == '.'))) {
            blank = 0;
        }

        p += n;
        chars++;
    }

    if (chars == 0 || blank) {
        *why = "the file name is empty";
        return NULL;
    }

    if (chars > DGJ_WF_ATTACH_NAME_MAX) {
        *why = "the file name is longer than 200 characters";
        return NULL;
    }

    return name;
}


char *
dgj_wf_attach_disposition(dgj_pool_t *pool, const char *name)
{
    char                 *ascii, *enc, *d;
    size_t                n;
    const unsigned char  *p, *end;

    enc = dgj_req_escape(pool, name);
    ascii = dgj_palloc(pool, strlen(name) + 1);
    if (enc == NULL || ascii == NULL) {
        return NULL;
    }

    p = (const unsigned char *) name;
    end = p + strlen(name);
    d = ascii;

    while (p < end) {
        n = dgj_req_utf8_len(p, (size_t) (end - p));
        if (n == 0) {
            n = 1;
        }

        if (n == 1 && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
                       || (*p >= '0' && *p <= '9')
                       || strchr(" .-_()", *p) != NULL))
        {
            *d++ = (char) *p;

        } else {
            *d++ = '_';
        }

        p += n;
    }

    *d = '\0';

    return dgj_psprintf(pool, "attachment; filename=\"%s\";"
                        " filename*=UTF-8''%s", ascii, enc);
}
