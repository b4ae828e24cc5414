
/*
 * Copyright (C) Daguanjia developers
 *
 * gen_appeals.c: the data of the inbox rows of `make bench` -- N appeals
 * with their personal data, their whole event history and the daily
 * sequence rows, written as LOAD DATA files (tab-separated, \N for NULL)
 * for tests/bench/run to load.  Built only for the benchmark.
 *
 *   dgj-gen-appeals REFDIR OUTDIR N NOW SEED QUERY_KEY
 *
 * REFDIR holds the stack's own reference rows, so every id is real:
 * categories.tsv (id code name appeal_type default_department_id
 * handling_days is_public of the leaves), districts.tsv (id code name
 * kind) and departments.tsv (id code kind district_id).  NOW is the unix
 * time the histories are cut at; the appeals fill the days before NOW's
 * Beijing date (about 1 370 a day, fewer at weekends, mostly in office
 * hours), so the day of NOW is left to live submissions.
 *
 * Each appeal lives the lifecycle of fcgi/workflow/dgj_workflow_machine.c
 * with the defaults of docs: rejected or merged at intake, answered at
 * once by intake (most consultations), or dispatched to the category's
 * department or the town's government, signed, returned and redispatched,
 * extended, urged, replied, sent back, approved, published, rated (a poor
 * rating reviewed and re-handled once) or closed by the sweeper; each
 * step comes after a delay drawn against its stage's deadline (working
 * days skip weekends only), some of them late, and the history stops at
 * NOW, so recent appeals are open in every state and some are overdue.
 * The appeal row is what those events leave (state, stage, clocks, lead
 * department, counters, outcome, reply, rating, version).  Events are
 * numbered in time order across appeals, as live traffic numbers them.
 *
 * Every appeal gets a query code, stored as the workers store it (HMAC-
 * SHA-256 under QUERY_KEY, var/secrets/query.key); codes.tsv keeps the
 * number and code of about a thousand of them -- most from the last 30
 * days, as citizens follow what is open -- for the status query row.
 */


#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>


#define DGJ_GEN_BEIJING     (8 * 3600)
#define DGJ_GEN_PER_DAY     1370
#define DGJ_GEN_HOUR        3600
#define DGJ_GEN_DAY         86400

#define DGJ_GEN_MAX_CATS    256
#define DGJ_GEN_MAX_DISTS   64
#define DGJ_GEN_MAX_DEPTS   256


typedef enum {
    S_SUBMITTED = 0, S_ACCEPTED, S_REJECTED, S_MERGED, S_DISPATCHED,
    S_HANDLING, S_RETURNED, S_REPLIED, S_AWAITING_FEEDBACK, S_DISSATISFIED,
    S_REOPENED, S_CLOSED
} dgj_gen_state_e;

typedef enum {
    A_SUBMIT = 0, A_ACCEPT, A_REJECT, A_MERGE, A_DIRECT_ANSWER, A_DISPATCH,
    A_SIGN, A_RETURN, A_REDISPATCH, A_EXTENSION_REQUEST,
    A_EXTENSION_APPROVE, A_REPLY, A_SEND_BACK, A_APPROVE, A_PUBLISH,
    A_RATE, A_UPHOLD, A_DISMISS, A_AUTO_CLOSE, A_URGE, A_SUPERVISE
} dgj_gen_action_e;

typedef enum {
    R_ANONYMOUS = 0, R_CITIZEN, R_INTAKE, R_OPS, R_HANDLER, R_REVIEWER,
    R_SUPERVISOR, R_SYSTEM
} dgj_gen_role_e;

typedef struct {
    uint32_t    id;
    char        code[8];
    char        name[64];
    char        type[16];
    uint32_t    dept;
    int         days;
    int         is_public;
    int         local;          /* often a town government's matter */
    double      weight;
} dgj_gen_cat_t;

typedef struct {
    uint32_t    id;
    char        code[16];
    char        name[40];
    int         municipal;
    uint32_t    town_dept;
    double      weight;
} dgj_gen_dist_t;

/* one event, numbered once all are sorted by time */
typedef struct {
    int64_t     at_ms;
    int64_t     due_set;        /* unix seconds, 0: NULL */
    uint32_t    appeal;
    uint32_t    actor;          /* 0: NULL */
    uint16_t    dept;           /* actor's department, 0: NULL */
    uint16_t    target;         /* 0: NULL */
    uint8_t     action;
    int8_t      from;           /* -1: NULL */
    uint8_t     to;
    uint8_t     role;
    int8_t      reason;         /* index into dgj_gen_reasons, -1: NULL */
} dgj_gen_event_t;

/* the appeal row as its events leave it */
typedef struct {
    uint32_t                id;
    int64_t                 now;
    const dgj_gen_cat_t    *cat;
    const dgj_gen_dist_t   *dist;
    int                     urgent;
    int                     consent;
    int                     state;
    const char             *stage;
    int64_t                 stage_start;
    int64_t                 due;
    int64_t                 warn;
    int64_t                 handle_due;
    uint32_t                lead;
    uint32_t                handler;
    uint32_t                merged_into;
    int                     returns;
    int                     extensions;
    int                     reopens;
    int                     urges;
    int                     supervised;
    int                     pending_extension;
    const char             *outcome;
    const char             *outcome_owner;
    int64_t                 replied;
    int                     rating;
    int                     resolved;
    int64_t                 rated;
    int64_t                 published;
    int64_t                 closed;
    int64_t                 updated;
    int                     version;
} dgj_gen_appeal_t;


static int dgj_gen_load(const char *dir, const char *key);
static void dgj_gen_weights(void);
static void dgj_gen_appeal(dgj_gen_appeal_t *a, int64_t submitted,
    const char *tracking, int channel, uint32_t ext_no);
static void dgj_gen_life(dgj_gen_appeal_t *a, int64_t t, int channel);
static int dgj_gen_handle(dgj_gen_appeal_t *a, int64_t *t);
static int dgj_gen_feedback(dgj_gen_appeal_t *a, int64_t *t);
static int dgj_gen_step(dgj_gen_appeal_t *a, int action, int64_t t, int to,
    const char *stage, int role, uint32_t target, int reason);
static void dgj_gen_clock(dgj_gen_appeal_t *a, const char *stage,
    int64_t start);
static int64_t dgj_gen_due(const dgj_gen_appeal_t *a, const char *stage,
    int64_t start);
static int64_t dgj_gen_wd_add(int64_t t, int n);
static int64_t dgj_gen_after(dgj_gen_appeal_t *a, int64_t start,
    int64_t due, double late);
static void dgj_gen_write_appeal(const dgj_gen_appeal_t *a,
    const char *tracking, int channel, uint32_t ext_no, int64_t submitted);
static void dgj_gen_write_personal(uint32_t id);
static void dgj_gen_write_events(void);
static const char *dgj_gen_time(int64_t t, char *buf);
static int dgj_gen_event_cmp(const void *x, const void *y);
static uint64_t dgj_gen_mix(uint64_t z);
static double dgj_gen_u(void);
static uint32_t dgj_gen_n(uint32_t n);
static int dgj_gen_pick(const double *w, int n);
static FILE *dgj_gen_open(const char *dir, const char *name);


static const char  *dgj_gen_states[] = {
    "submitted", "accepted", "rejected", "merged", "dispatched", "handling",
    "returned", "replied", "awaiting_feedback", "dissatisfied", "reopened",
    "closed"
};

static const struct {
    const char  *name;
    int          public;
} dgj_gen_actions[] = {
    { "submit", 1 }, { "accept", 1 }, { "reject", 1 }, { "merge", 1 },
    { "direct_answer", 1 }, { "dispatch", 1 }, { "sign", 1 },
    { "return", 0 }, { "redispatch", 1 }, { "extension_request", 0 },
    { "extension_approve", 1 }, { "reply", 0 }, { "send_back", 0 },
    { "approve", 1 }, { "publish", 0 }, { "rate", 1 }, { "uphold", 1 },
    { "dismiss", 1 }, { "auto_close", 1 }, { "urge", 0 },
    { "supervise", 0 }
};

static const char  *dgj_gen_roles[] = {
    "anonymous", "citizen", "intake", "ops", "handler", "reviewer",
    "supervisor", "system"
};

static const char  dgj_gen_alphabet[] = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";

static const char  *dgj_gen_reasons[] = {
    "out_of_scope", "legal_procedure", "insufficient_info", "abusive",
    "duplicate", "not_our_duty", "wrong_district", "other_level",
    "resolved", "unresolved", "published"
};

static const char  *dgj_gen_channels[] = {
    "portal", "wechat", "app", "hotline", "govplatform"
};
static const double dgj_gen_channel_w[] = { 18, 32, 12, 33, 5 };

/* appeals by hour of the day (Beijing): the hotline answers all night */
static const double dgj_gen_hour_w[] = {
    1, 0.6, 0.4, 0.3, 0.3, 0.5, 1, 3, 6, 9, 10, 9,
    7, 8, 9, 9, 8, 7, 6, 5, 4, 3, 2, 1.5
};

/* topics 01..12: housing, traffic, environment, labour, education,
 * health, market, safety, city management, utilities, welfare, advice */
static const double dgj_gen_topic_w[] = {
    14, 9, 10, 13, 7, 6, 10, 6, 11, 7, 4, 8
};

/* the populous towns and subdistricts get more appeals */
static const char  *dgj_gen_big[] = {
    "441900003", "441900004", "441900110", "441900111", "441900113",
    "441900115", "441900116", "441900117", "441900119", "441900121",
    "441900122", NULL
};

static const char  *dgj_gen_surnames[] = {
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙",
    "马", "朱", "胡", "郭", "何", "林", "罗", "高", "梁", "郑", "谢", "宋",
    "唐", "许", "邓", "韩", "冯", "曹", "彭", "曾", "肖", "田", "董", "潘",
    "袁", "蔡", "蒋", "余", "叶", "程", "苏", "卢", "钟", "欧阳", "司马"
};

static const char  *dgj_gen_given[] = {
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳",
    "杰", "娟", "涛", "明", "超", "秀英", "霞", "平", "刚", "桂英", "华",
    "文", "辉", "建国", "志强", "晓燕", "嘉欣", "子轩", "梓涵", "浩然"
};

static const char  *dgj_gen_roads[] = {
    "人民路", "东莞大道", "鸿福路", "莞太路", "新城路", "建设路", "振兴路",
    "学院路", "环城路", "工业大道", "松山湖大道", "沿河路", "中心路",
    "育才路", "银湖路", "金龙路"
};

static const char  *dgj_gen_openers[] = {
    "", "市民来电反映:", "网友留言:", "本人反映:", "您好,", "业主反映:"
};

static const char  *dgj_gen_details[] = {
    "多次向相关部门反映未果,", "严重影响周边居民正常生活,",
    "希望有关部门尽快核实处理,", "请相关部门依法查处,",
    "附近有学校和医院,", "晚上尤其明显,", "已拨打过热线但问题依旧,",
    "涉及住户约两百户,", "望尽快安排人员到现场查看,",
    "情况已持续一个多月,", "老人和小孩深受其扰,",
    "物业和社区均表示无法解决,", "周末更加严重,",
    "现场有照片可以提供,"
};

static const char  *dgj_gen_closers[] = {
    "恳请给予答复。", "谢谢!", "请尽快处理。", "盼复。", "望予以重视。"
};

static const char  *dgj_gen_replies[] = {
    "经核查, 反映情况属实, 已责令相关单位限期整改, 并将持续跟踪。",
    "已安排工作人员到现场核实, 相关问题已处理完毕。",
    "经了解, 该事项已按规定办理, 具体政策已电话告知来电人。",
    "已联系诉求人说明情况, 并协调相关单位落实。",
    "该事项不属于本单位职责范围, 已告知诉求人向有权部门反映。",
    "受客观条件限制, 暂时无法解决, 已向诉求人做好解释。"
};

static dgj_gen_cat_t     dgj_gen_cats[DGJ_GEN_MAX_CATS];
static int               dgj_gen_ncats;
static double            dgj_gen_cat_w[DGJ_GEN_MAX_CATS];
static dgj_gen_dist_t    dgj_gen_dists[DGJ_GEN_MAX_DISTS];
static int               dgj_gen_ndists;
static double            dgj_gen_dist_w[DGJ_GEN_MAX_DISTS];
static uint32_t          dgj_gen_intake_dept;

static dgj_gen_event_t  *dgj_gen_events;
static size_t            dgj_gen_nevents;
static size_t            dgj_gen_cap;

static FILE             *dgj_gen_f_appeals;
static FILE             *dgj_gen_f_personal;
static FILE             *dgj_gen_f_events;
static FILE             *dgj_gen_f_codes;
static char              dgj_gen_key[256];

static uint64_t          dgj_gen_rng;
static uint64_t          dgj_gen_states_n[12];


int
main(int argc, char **argv)
{
    int        w, hour;
    char       day_s[32], tracking[40];
    FILE      *days;
    double     dw[4096], total, acc;
    int64_t    now, today, first, d, *times, t;
    uint32_t   n, id, c, i, k, per, ext;
    uint32_t   counts[4096];
    long long  all;

    if (argc != 7) {
        fprintf(stderr, "usage: %s REFDIR OUTDIR N NOW SEED QUERY_KEY\n",
                argv[0]);
        return 2;
    }

    all = atoll(argv[3]);
    now = atoll(argv[4]);
    dgj_gen_rng = (uint64_t) atoll(argv[5]) * 0x9e3779b97f4a7c15ULL + 1;

    if (all < 1 || all > 20000000 || now < 1000000000) {
        fprintf(stderr, "dgj-gen-appeals: N must be 1..20000000 and NOW a"
                " unix time\n");
        return 2;
    }

    n = (uint32_t) all;

    if (dgj_gen_load(argv[1], argv[6]) != 0) {
        return 1;
    }

    dgj_gen_weights();

    /* the days before today (Beijing), weekends quieter, some noise */
    today = (now + DGJ_GEN_BEIJING) / DGJ_GEN_DAY;
    k = (n + DGJ_GEN_PER_DAY - 1) / DGJ_GEN_PER_DAY;
    k = k < 1 ? 1 : k;
    if (k > 4096) {
        fprintf(stderr, "dgj-gen-appeals: N too large\n");
        return 2;
    }

    first = today - k;
    total = 0;

    for (i = 0; i < k; i++) {
        w = (int) ((first + i + 4) % 7);
        dw[i] = (w == 0 || w == 6 ? 0.65 : 1.0) * (0.85 + 0.3 * dgj_gen_u());
        total += dw[i];
    }

    acc = 0;
    c = 0;
    for (i = 0; i < k; i++) {
        acc += dw[i];
        per = (uint32_t) (acc / total * n + 0.5) - c;
        counts[i] = per;
        c += per;
    }

    dgj_gen_f_appeals = dgj_gen_open(argv[2], "appeals.tsv");
    dgj_gen_f_personal = dgj_gen_open(argv[2], "personal.tsv");
    dgj_gen_f_events = dgj_gen_open(argv[2], "events.tsv");
    dgj_gen_f_codes = dgj_gen_open(argv[2], "codes.tsv");
    days = dgj_gen_open(argv[2], "days.tsv");

    if (dgj_gen_f_appeals == NULL || dgj_gen_f_personal == NULL
        || dgj_gen_f_events == NULL || dgj_gen_f_codes == NULL
        || days == NULL)
    {
        return 1;
    }

    dgj_gen_cap = (size_t) n * 7;
    dgj_gen_events = malloc(dgj_gen_cap * sizeof(dgj_gen_event_t));
    times = malloc((DGJ_GEN_PER_DAY * 4 + 16) * sizeof(int64_t));
    if (dgj_gen_events == NULL || times == NULL) {
        fprintf(stderr, "dgj-gen-appeals: out of memory\n");
        return 1;
    }

    id = 0;
    ext = 0;

    for (i = 0; i < k; i++) {
        d = first + i;

        /* the day's submission times in order: the sequence follows them */
        for (c = 0; c < counts[i]; c++) {
            hour = dgj_gen_pick(dgj_gen_hour_w, 24);
            times[c] = d * DGJ_GEN_DAY - DGJ_GEN_BEIJING
                       + hour * DGJ_GEN_HOUR + dgj_gen_n(DGJ_GEN_HOUR);
        }

        qsort(times, counts[i], sizeof(int64_t), dgj_gen_event_cmp);

        dgj_gen_time(d * DGJ_GEN_DAY - DGJ_GEN_BEIJING, day_s);
        day_s[10] = '\0';

        if (counts[i] > 0) {
            fprintf(days, "%s\t%u\n", day_s, counts[i]);
        }

        for (c = 0; c < counts[i]; c++) {
            dgj_gen_appeal_t  a;
            int               channel;

            t = times[c];
            snprintf(tracking, sizeof(tracking), "DG%.4s%.2s%.2s%06u",
                     day_s, day_s + 5, day_s + 8, c + 1);

            memset(&a, 0, sizeof(a));
            a.id = ++id;
            a.now = now;
            channel = dgj_gen_pick(dgj_gen_channel_w, 5);

            if (channel >= 3) {
                ext++;
            }

            dgj_gen_appeal(&a, t, tracking, channel, ext);
        }
    }

    dgj_gen_write_events();

    if (fclose(days) != 0 || fclose(dgj_gen_f_appeals) != 0
        || fclose(dgj_gen_f_personal) != 0
        || fclose(dgj_gen_f_events) != 0 || fclose(dgj_gen_f_codes) != 0)
    {
        fprintf(stderr, "dgj-gen-appeals: write failed: %s\n",
                strerror(errno));
        return 1;
    }

    /* a summary for the bench log: what the inboxes will hold */
    fprintf(stderr, "dgj-gen-appeals: %u appeals over %u days, %zu events"
            " (%.2f per appeal); states:", id, k, dgj_gen_nevents,
            (double) dgj_gen_nevents / (id ? id : 1));

    for (i = 0; i < 12; i++) {
        fprintf(stderr, " %s %" PRIu64, dgj_gen_states[i],
                dgj_gen_states_n[i]);
    }

    fprintf(stderr, "\n");

    return 0;
}


static int
dgj_gen_load(const char *dir, const char *key)
{
    int               n;
    char              path[4096], line[1024], kind[32], code[64];
    FILE             *f;
    unsigned          did, dept;
    dgj_gen_cat_t    *c;
    dgj_gen_dist_t   *d;

    f = fopen(key, "r");
    if (f == NULL || fgets(dgj_gen_key, sizeof(dgj_gen_key), f) == NULL) {
        fprintf(stderr, "dgj-gen-appeals: %s: %s\n", key, strerror(errno));
        return -1;
    }

    fclose(f);
    dgj_gen_key[strcspn(dgj_gen_key, "\n")] = '\0';

    snprintf(path, sizeof(path), "%s/categories.tsv", dir);
    f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "dgj-gen-appeals: %s: %s\n", path, strerror(errno));
        return -1;
    }

    while (fgets(line, sizeof(line), f) != NULL
           && dgj_gen_ncats < DGJ_GEN_MAX_CATS)
    {
        c = &dgj_gen_cats[dgj_gen_ncats];
        if (sscanf(line, "%u\t%7[^\t]\t%63[^\t]\t%15[^\t]\t%u\t%d\t%d",
                   &c->id, c->code, c->name, c->type, &c->dept, &c->days,
                   &c->is_public) == 7)
        {
            dgj_gen_ncats++;
        }
    }

    fclose(f);

    snprintf(path, sizeof(path), "%s/districts.tsv", dir);
    f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "dgj-gen-appeals: %s: %s\n", path, strerror(errno));
        return -1;
    }

    while (fgets(line, sizeof(line), f) != NULL
           && dgj_gen_ndists < DGJ_GEN_MAX_DISTS)
    {
        d = &dgj_gen_dists[dgj_gen_ndists];
        if (sscanf(line, "%u\t%15[^\t]\t%39[^\t]\t%31[^\t\n]", &d->id,
                   d->code, d->name, kind) == 4)
        {
            d->municipal = strcmp(kind, "municipal") == 0;
            dgj_gen_ndists++;
        }
    }

    fclose(f);

    snprintf(path, sizeof(path), "%s/departments.tsv", dir);
    f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "dgj-gen-appeals: %s: %s\n", path, strerror(errno));
        return -1;
    }

    while (fgets(line, sizeof(line), f) != NULL) {
        if (sscanf(line, "%u\t%63[^\t]\t%31[^\t]\t%u", &dept, code, kind,
                   &did) != 4)
        {
            continue;
        }

        /* the 12345 centre: intake, review and supervision sit there */
        if (strcmp(code, "city.gov_service") == 0) {
            dgj_gen_intake_dept = dept;
        }

        for (n = 0; n < dgj_gen_ndists; n++) {
            if (dgj_gen_dists[n].id == did && strcmp(kind, "town") == 0) {
                dgj_gen_dists[n].town_dept = dept;
            }
        }
    }

    fclose(f);

    if (dgj_gen_ncats == 0 || dgj_gen_ndists == 0
        || dgj_gen_intake_dept == 0)
    {
        fprintf(stderr, "dgj-gen-appeals: reference data missing in %s\n",
                dir);
        return -1;
    }

    return 0;
}


static void
dgj_gen_weights(void)
{
    int      i, j, topic, rank, prev;
    double   w;

    prev = -1;
    rank = 0;

    /* within a topic the first leaves are the common ones */
    for (i = 0; i < dgj_gen_ncats; i++) {
        topic = atoi(dgj_gen_cats[i].code) / 100;
        rank = topic == prev ? rank + 1 : 0;
        prev = topic;

        w = topic >= 1 && topic <= 12 ? dgj_gen_topic_w[topic - 1] : 3;
        dgj_gen_cat_w[i] = w / (1.0 + 0.45 * rank) + 0.2;

        /* housing, environment, safety, city management, utilities */
        dgj_gen_cats[i].local = topic == 1 || topic == 3 || topic == 8
                                || topic == 9 || topic == 10;
    }

    for (i = 0; i < dgj_gen_ndists; i++) {
        w = dgj_gen_dists[i].municipal ? 6 : 1 + dgj_gen_u();

        for (j = 0; dgj_gen_big[j] != NULL; j++) {
            if (strcmp(dgj_gen_big[j], dgj_gen_dists[i].code) == 0) {
                w *= 2.2;
            }
        }

        dgj_gen_dist_w[i] = w;
    }
}


static void
dgj_gen_appeal(dgj_gen_appeal_t *a, int64_t submitted, const char *tracking,
    int channel, uint32_t ext_no)
{
    a->cat = &dgj_gen_cats[dgj_gen_pick(dgj_gen_cat_w, dgj_gen_ncats)];
    a->dist = &dgj_gen_dists[dgj_gen_pick(dgj_gen_dist_w, dgj_gen_ndists)];
    a->urgent = channel >= 3 && dgj_gen_u() < 0.02;
    a->consent = dgj_gen_u() < 0.6;
    a->version = 0;

    dgj_gen_life(a, submitted, channel);

    dgj_gen_states_n[a->state]++;
    dgj_gen_write_appeal(a, tracking, channel, ext_no, submitted);
    dgj_gen_write_personal(a->id);
}


/* the lifecycle from submission until it ends or NOW cuts it */
static void
dgj_gen_life(dgj_gen_appeal_t *a, int64_t t, int channel)
{
    double    p, direct;
    uint32_t  lead;

    a->state = S_SUBMITTED;
    dgj_gen_clock(a, "intake", t);
    a->version = 0;

    dgj_gen_step(a, A_SUBMIT, t, S_SUBMITTED, NULL,
                 channel == 3 ? R_INTAKE : channel == 4 ? R_OPS
                                                        : R_ANONYMOUS,
                 0, -1);

    p = dgj_gen_u();

    if (p < 0.03) {
        t = dgj_gen_after(a, t, a->due, 0.03);
        if (dgj_gen_step(a, A_REJECT, t, S_REJECTED, "none", R_INTAKE, 0,
                         (int) dgj_gen_n(4)) == 0)
        {
            a->outcome = "not_accepted";
        }

        return;
    }

    if (p < 0.05 && a->id > 1) {
        t = dgj_gen_after(a, t, a->due, 0.03);
        if (dgj_gen_step(a, A_MERGE, t, S_MERGED, "none", R_INTAKE, 0, 4)
            == 0)
        {
            a->outcome = "duplicate";
            a->merged_into = a->id - 1 - dgj_gen_n(a->id > 300 ? 300
                                                               : a->id - 1);
        }

        return;
    }

    if (dgj_gen_u() < 0.3) {
        t += (int64_t) ((a->due - t) * 0.2 * dgj_gen_u());
        if (dgj_gen_step(a, A_ACCEPT, t, S_ACCEPTED, NULL, R_INTAKE, 0, -1)
            != 0)
        {
            return;
        }
    }

    /* most consultations are answered by intake at once (直办) */
    direct = strcmp(a->cat->type, "consultation") == 0 ? 0.9
             : strcmp(a->cat->type, "praise") == 0 ? 0.8
             : strcmp(a->cat->type, "suggestion") == 0 ? 0.5
             : strcmp(a->cat->type, "help") == 0 ? 0.35
             : strcmp(a->cat->type, "complaint") == 0 ? 0.3 : 0.05;

    if (dgj_gen_u() < direct) {
        t = dgj_gen_after(a, t, a->due, 0.02);
        if (dgj_gen_step(a, A_DIRECT_ANSWER, t, S_AWAITING_FEEDBACK,
                         "rating", R_INTAKE, 0, -1) != 0)
        {
            return;
        }

        a->outcome = dgj_gen_u() < 0.5 ? "resolved" : "answered";
        a->replied = t;

        dgj_gen_feedback(a, &t);
        return;
    }

    /* dispatch: the catalogue's department, or the town for local matters */
    t = dgj_gen_after(a, t, a->due, 0.05);
    lead = !a->dist->municipal && a->dist->town_dept != 0
           && dgj_gen_u() < (a->cat->local ? 0.45 : 0.12)
           ? a->dist->town_dept : a->cat->dept;

    if (dgj_gen_step(a, A_DISPATCH, t, S_DISPATCHED, "sign", R_INTAKE, lead,
                     -1) != 0)
    {
        return;
    }

    a->lead = lead;
    a->handler = 200000 + lead * 16 + dgj_gen_n(8);
    a->handle_due = dgj_gen_due(a, "handle", t);

    if (dgj_gen_handle(a, &t) != 0) {
        return;
    }

    dgj_gen_feedback(a, &t);
}


/* sign, maybe return and redispatch, side actions, reply, review */
static int
dgj_gen_handle(dgj_gen_appeal_t *a, int64_t *tp)
{
    int        days, outcome;
    int64_t    t;
    uint32_t   lead;

    static const char  *outcomes[] = {
        "resolved", "answered", "not_ours", "cannot_handle"
    };

    t = *tp;

    t = dgj_gen_after(a, t, a->due, 0.05);
    if (dgj_gen_step(a, A_SIGN, t, S_HANDLING, NULL, R_HANDLER, 0, -1) != 0)
    {
        return -1;
    }

    if (a->reopens == 0 && dgj_gen_u() < 0.04) {
        t += DGJ_GEN_HOUR + dgj_gen_n(2 * DGJ_GEN_DAY);
        if (dgj_gen_step(a, A_RETURN, t, S_RETURNED, "intake", R_HANDLER, 0,
                         5 + (int) dgj_gen_n(3)) != 0)
        {
            return -1;
        }

        a->returns++;

        /* intake sends it to the other candidate, whose time starts anew */
        t = dgj_gen_after(a, t, a->due, 0.03);
        lead = a->lead == a->cat->dept && a->dist->town_dept != 0
               ? a->dist->town_dept : a->cat->dept;

        if (dgj_gen_step(a, A_REDISPATCH, t, S_DISPATCHED, "sign", R_INTAKE,
                         lead, -1) != 0)
        {
            return -1;
        }

        a->lead = lead;
        a->handler = 200000 + lead * 16 + dgj_gen_n(8);
        a->handle_due = dgj_gen_due(a, "handle", t);

        t = dgj_gen_after(a, t, a->due, 0.05);
        if (dgj_gen_step(a, A_SIGN, t, S_HANDLING, NULL, R_HANDLER, 0, -1)
            != 0)
        {
            return -1;
        }
    }

    if (dgj_gen_u() < 0.03) {
        days = 5 + (int) dgj_gen_n(11);
        t += (int64_t) ((a->due - t) * (0.3 + 0.5 * dgj_gen_u()));
        if (dgj_gen_step(a, A_EXTENSION_REQUEST, t, -1, NULL, R_HANDLER, 0,
                         -1) != 0)
        {
            return -1;
        }

        a->pending_extension = days;

        t += DGJ_GEN_HOUR + dgj_gen_n(DGJ_GEN_DAY);
        if (dgj_gen_step(a, A_EXTENSION_APPROVE, t, -1, NULL, R_INTAKE, 0,
                         -1) != 0)
        {
            return -1;
        }

        a->extensions++;
        a->pending_extension = 0;
        a->handle_due = dgj_gen_wd_add(a->handle_due, days);
        a->due = a->handle_due;
        a->warn = a->stage_start + (a->due - a->stage_start) * 8 / 10;
    }

    if (dgj_gen_u() < 0.06) {
        t += (int64_t) ((a->due - t) * 0.5 * dgj_gen_u());
        if (dgj_gen_step(a, A_URGE, t, -1, NULL, R_SUPERVISOR, 0, -1) != 0) {
            return -1;
        }

        a->urges++;

        if (dgj_gen_u() < 0.2) {
            t += DGJ_GEN_HOUR + dgj_gen_n(DGJ_GEN_DAY);
            if (dgj_gen_step(a, A_SUPERVISE, t, -1, NULL, R_SUPERVISOR, 0,
                             -1) != 0)
            {
                return -1;
            }

            a->supervised = 1;
        }
    }

    for ( ;; ) {
        t = dgj_gen_after(a, t, a->due, 0.08);
        if (dgj_gen_step(a, A_REPLY, t, S_REPLIED, "review", R_HANDLER, 0,
                         -1) != 0)
        {
            return -1;
        }

        outcome = dgj_gen_pick((const double[]) { 65, 25, 5, 5 }, 4);
        a->replied = t;
        a->outcome = outcomes[outcome];
        a->outcome_owner = outcome == 2 ? "上级主管部门" : NULL;

        t = dgj_gen_after(a, t, a->due, 0.03);

        if (dgj_gen_u() >= 0.04) {
            break;
        }

        /* the reviewer sends it back against the same handling deadline */
        if (dgj_gen_step(a, A_SEND_BACK, t, S_HANDLING, NULL, R_REVIEWER, 0,
                         -1) != 0)
        {
            return -1;
        }
    }

    if (dgj_gen_step(a, A_APPROVE, t, S_AWAITING_FEEDBACK, "rating",
                     R_REVIEWER, 0, -1) != 0)
    {
        return -1;
    }

    *tp = t;

    return 0;
}


/* publication, rating or the sweeper, the dissatisfaction review */
static int
dgj_gen_feedback(dgj_gen_appeal_t *a, int64_t *tp)
{
    int      poor, rating, resolved;
    int64_t  t, rate_at, pub_at;

    t = *tp;

    pub_at = 0;
    if (a->consent && a->cat->is_public && dgj_gen_u() < 0.3) {
        pub_at = t + DGJ_GEN_HOUR + dgj_gen_n(3 * DGJ_GEN_DAY);
    }

    rate_at = dgj_gen_u() < 0.55
              ? t + (int64_t) dgj_gen_n(7 * DGJ_GEN_DAY - 60) : 0;

    if (pub_at != 0 && (rate_at == 0 || pub_at < rate_at)) {
        if (dgj_gen_step(a, A_PUBLISH, pub_at, -1, NULL, R_REVIEWER, 0, 10)
            != 0)
        {
            return -1;
        }

        a->published = pub_at;
        pub_at = 0;
    }

    if (rate_at == 0) {
        t = a->due + (int64_t) dgj_gen_n(DGJ_GEN_HOUR);
        if (dgj_gen_step(a, A_AUTO_CLOSE, t, S_CLOSED, "none", R_SYSTEM, 0,
                         -1) != 0)
        {
            return -1;
        }

    } else {
        t = rate_at;
        rating = 1 + dgj_gen_pick((const double[]) { 58, 24, 9, 6, 3 }, 5);
        resolved = dgj_gen_u() < (strcmp(a->outcome, "resolved") == 0
                                  ? 0.9 : 0.3);
        poor = rating >= 4;

        if (dgj_gen_step(a, A_RATE, t, poor ? S_DISSATISFIED : S_CLOSED,
                         poor ? "review" : "none", R_CITIZEN, 0,
                         resolved ? 8 : 9) != 0)
        {
            return -1;
        }

        a->rating = rating;
        a->resolved = resolved;
        a->rated = t;

        if (poor) {
            t = dgj_gen_after(a, t, a->due, 0.03);

            if (a->lead != 0 && a->reopens == 0 && dgj_gen_u() < 0.4) {
                if (dgj_gen_step(a, A_UPHOLD, t, S_REOPENED, "rehandle",
                                 R_REVIEWER, a->lead, -1) != 0)
                {
                    return -1;
                }

                a->reopens++;
                a->handle_due = a->due;

                if (dgj_gen_handle(a, &t) != 0) {
                    return -1;
                }

                return dgj_gen_feedback(a, &t);
            }

            if (dgj_gen_step(a, A_DISMISS, t, S_CLOSED, "none", R_REVIEWER,
                             0, -1) != 0)
            {
                return -1;
            }
        }
    }

    if (pub_at != 0) {
        t = pub_at > t ? pub_at : t + DGJ_GEN_HOUR;
        if (dgj_gen_step(a, A_PUBLISH, t, -1, NULL, R_REVIEWER, 0, 10) == 0) {
            a->published = t;
        }
    }

    *tp = t;

    return 0;
}


/*
 * Records an action at t unless t is past NOW (then the history ends and
 * -1 comes back).  to -1: a side action, the state stays; stage: the
 * clock it starts, NULL to keep the running one.
 */
static int
dgj_gen_step(dgj_gen_appeal_t *a, int action, int64_t t, int to,
    const char *stage, int role, uint32_t target, int reason)
{
    dgj_gen_event_t  *e, *p;

    /* one appeal's actions never share a second: their order is kept */
    if (action != A_SUBMIT && t <= a->updated) {
        t = a->updated + 1 + dgj_gen_n(60);
    }

    if (t > a->now) {
        return -1;
    }

    if (dgj_gen_nevents == dgj_gen_cap) {
        p = realloc(dgj_gen_events,
                    2 * dgj_gen_cap * sizeof(dgj_gen_event_t));
        if (p == NULL) {
            fprintf(stderr, "dgj-gen-appeals: out of memory\n");
            exit(1);
        }

        dgj_gen_events = p;
        dgj_gen_cap *= 2;
    }

    e = &dgj_gen_events[dgj_gen_nevents++];
    memset(e, 0, sizeof(dgj_gen_event_t));

    e->at_ms = t * 1000 + dgj_gen_n(1000);
    e->appeal = a->id;
    e->action = (uint8_t) action;
    e->from = action == A_SUBMIT ? -1 : (int8_t) a->state;
    e->role = (uint8_t) role;
    e->target = (uint16_t) target;
    e->reason = (int8_t) reason;

    switch (role) {

    case R_INTAKE:
    case R_OPS:
        e->actor = 100000 + dgj_gen_n(120);
        e->dept = (uint16_t) dgj_gen_intake_dept;
        break;

    case R_REVIEWER:
        e->actor = 300000 + dgj_gen_n(30);
        e->dept = (uint16_t) dgj_gen_intake_dept;
        break;

    case R_SUPERVISOR:
        e->actor = 400000 + dgj_gen_n(10);
        e->dept = (uint16_t) dgj_gen_intake_dept;
        break;

    case R_HANDLER:
        e->actor = a->handler;
        e->dept = (uint16_t) a->lead;
        break;

    default:
        break;
    }

    if (to >= 0) {
        a->state = to;
    }

    if (stage != NULL) {
        dgj_gen_clock(a, stage, t);
        e->due_set = a->due;
    }

    if (action == A_SUBMIT) {
        e->due_set = a->due;
    }

    /* signing and sending back run toward the handling deadline */
    if (action == A_SIGN || action == A_SEND_BACK) {
        a->stage = a->reopens > 0 ? "rehandle" : "handle";
        a->stage_start = t;
        a->due = a->handle_due;
        a->warn = a->due <= t ? a->due : t + (a->due - t) * 8 / 10;
        e->due_set = a->due;
    }

    if (a->state == S_CLOSED || a->state == S_REJECTED
        || a->state == S_MERGED)
    {
        a->closed = t;
    }

    e->to = (uint8_t) a->state;
    a->updated = t;
    a->version++;

    return 0;
}


static void
dgj_gen_clock(dgj_gen_appeal_t *a, const char *stage, int64_t start)
{
    a->stage = stage;
    a->stage_start = start;

    if (strcmp(stage, "none") == 0) {
        a->due = 0;
        a->warn = 0;
        return;
    }

    a->due = dgj_gen_due(a, stage, start);
    a->warn = start + (a->due - start) * 8 / 10;
}


/* the default rules of 0009_workflow.sql, weekends as the only holidays */
static int64_t
dgj_gen_due(const dgj_gen_appeal_t *a, const char *stage, int64_t start)
{
    if (strcmp(stage, "rating") == 0) {
        return start + 7 * DGJ_GEN_DAY;
    }

    if (strcmp(stage, "rehandle") == 0) {
        return dgj_gen_wd_add(start, 15);
    }

    if (strcmp(stage, "handle") == 0) {
        return a->urgent ? start + 24 * DGJ_GEN_HOUR
                         : dgj_gen_wd_add(start, a->cat->days);
    }

    if (strcmp(stage, "review") == 0) {
        return a->urgent ? start + 4 * DGJ_GEN_HOUR
                         : dgj_gen_wd_add(start, 2);
    }

    /* intake and sign */
    return a->urgent ? start + 2 * DGJ_GEN_HOUR : dgj_gen_wd_add(start, 1);
}


static int64_t
dgj_gen_wd_add(int64_t t, int n)
{
    int  w;

    while (n > 0) {
        t += DGJ_GEN_DAY;
        w = (int) (((t + DGJ_GEN_BEIJING) / DGJ_GEN_DAY + 4) % 7);

        if (w != 0 && w != 6) {
            n--;
        }
    }

    return t;
}


/*
 * When the next step happens: mostly well inside the stage's time (early
 * more often than late), with probability `late` after its deadline.
 */
static int64_t
dgj_gen_after(dgj_gen_appeal_t *a, int64_t start, int64_t due, double late)
{
    double  f, u;

    (void) a;

    if (due <= start) {
        return start + DGJ_GEN_HOUR + dgj_gen_n(DGJ_GEN_DAY);
    }

    u = dgj_gen_u();
    f = dgj_gen_u() < late ? 1.0 + 1.5 * u : 0.02 + 0.93 * u * u;

    return start + 60 + (int64_t) ((due - start) * f);
}


static void
dgj_gen_write_appeal(const dgj_gen_appeal_t *a, const char *tracking,
    int channel, uint32_t ext_no, int64_t submitted)
{
    int            i, n;
    char           t1[32], t2[32], t3[32], t4[32], t5[32], t6[32], t7[32];
    char           t8[32], t9[32], ext[24], lat[48], code[7], hex[65];
    FILE          *f = dgj_gen_f_appeals;
    unsigned int   len;
    unsigned char  mac[32];

    /* a code as the worker makes one, stored as its HMAC */
    for (i = 0; i < 6; i++) {
        code[i] = dgj_gen_alphabet[dgj_gen_n(sizeof(dgj_gen_alphabet) - 1)];
    }

    code[6] = '\0';
    len = sizeof(mac);
    HMAC(EVP_sha256(), dgj_gen_key, (int) strlen(dgj_gen_key),
         (const unsigned char *) code, 6, mac, &len);

    if (dgj_gen_u() < (a->now - submitted < 30 * DGJ_GEN_DAY ? 0.017
                                                             : 0.0003))
    {
        fprintf(dgj_gen_f_codes, "%s\t%s\n", tracking, code);
    }

    if (channel == 3) {
        snprintf(ext, sizeof(ext), "HL%010u", ext_no);

    } else if (channel == 4) {
        snprintf(ext, sizeof(ext), "GP%010u", ext_no);

    } else {
        snprintf(ext, sizeof(ext), "\\N");
    }

    if (dgj_gen_u() < 0.6) {
        snprintf(lat, sizeof(lat), "%.6f\t%.6f", 22.65 + 0.5 * dgj_gen_u(),
                 113.55 + 0.7 * dgj_gen_u());

    } else {
        snprintf(lat, sizeof(lat), "\\N\t\\N");
    }

    /* id tracking_no @mac channel external_id category_id appeal_type
     * district_id address latitude longitude title */
    for (i = 0; i < 32; i++) {
        hex[2 * i] = "0123456789abcdef"[mac[i] >> 4];
        hex[2 * i + 1] = "0123456789abcdef"[mac[i] & 0x0f];
    }

    hex[64] = '\0';

    fprintf(f, "%u\t%s\t%s\t%s\t%s\t%u\t%s\t%u\t%s%s%u号\t%s\t%s%s%s\t",
            a->id, tracking, hex, dgj_gen_channels[channel], ext, a->cat->id,
            a->cat->type, a->dist->id, a->dist->municipal ? "" : a->dist->name,
            dgj_gen_roads[dgj_gen_n(16)], 1 + dgj_gen_n(388), lat,
            dgj_gen_u() < 0.3 && !a->dist->municipal ? a->dist->name : "",
            a->cat->name,
            strcmp(a->cat->type, "consultation") == 0 ? "咨询"
            : strcmp(a->cat->type, "report") == 0 ? "举报"
            : strcmp(a->cat->type, "help") == 0 ? "求助"
            : strcmp(a->cat->type, "praise") == 0 ? "表扬"
            : strcmp(a->cat->type, "suggestion") == 0 ? "建议" : "投诉");

    /* content: 60 to 200 characters */
    fprintf(f, "%s%s%s%s附近%s问题,", dgj_gen_openers[dgj_gen_n(6)],
            a->dist->municipal ? "" : a->dist->name,
            dgj_gen_roads[dgj_gen_n(16)], dgj_gen_u() < 0.5 ? "某小区" : "",
            a->cat->name);
    n = 2 + (int) dgj_gen_n(5);
    for (i = 0; i < n; i++) {
        fputs(dgj_gen_details[dgj_gen_n(14)], f);
    }

    fputs(dgj_gen_closers[dgj_gen_n(5)], f);

    /* is_anonymous publish_consent priority state lead merged_into
     * submitter stage stage_started_at due_at warn_at handle_due_at */
    fprintf(f, "\t%d\t%d\t%s\t%s\t", dgj_gen_u() < 0.1, a->consent,
            a->urgent ? "urgent" : "normal", dgj_gen_states[a->state]);

    if (a->lead) {
        fprintf(f, "%u\t", a->lead);

    } else {
        fputs("\\N\t", f);
    }

    if (a->merged_into) {
        fprintf(f, "%u\t", a->merged_into);

    } else {
        fputs("\\N\t", f);
    }

    fprintf(f, "\\N\t%s\t%s\t%s\t%s\t%s\t", a->stage,
            dgj_gen_time(a->stage_start, t1), dgj_gen_time(a->due, t2),
            dgj_gen_time(a->warn, t3), dgj_gen_time(a->handle_due, t4));

    /* counters, pending extension, outcome, owner, reply, replied_at,
     * resolved, rating, comment, rated_at */
    fprintf(f, "%d\t%d\t%d\t%d\t%d\t", a->returns, a->extensions,
            a->reopens, a->urges, a->supervised);

    if (a->pending_extension) {
        fprintf(f, "%d\t", a->pending_extension);

    } else {
        fputs("\\N\t", f);
    }

    fprintf(f, "%s\t%s\t%s\t%s\t",
            a->outcome ? a->outcome : "\\N",
            a->outcome_owner ? a->outcome_owner : "\\N",
            a->replied ? dgj_gen_replies[a->id % 6] : "\\N",
            dgj_gen_time(a->replied, t5));

    if (a->rated) {
        fprintf(f, "%d\t%d\t%s\t%s\t", a->resolved, a->rating,
                a->rating >= 4 ? "问题没有真正解决" : "\\N",
                dgj_gen_time(a->rated, t6));

    } else {
        fputs("\\N\t\\N\t\\N\t\\N\t", f);
    }

    /* publish_state public_title public_content published_at */
    if (a->published) {
        fprintf(f, "published\t%s%s\t群众反映%s相关问题, 已由承办单位办理并"
                "答复。\t%s\t", a->cat->name, "问题", a->cat->name,
                dgj_gen_time(a->published, t7));

    } else {
        fputs("none\t\\N\t\\N\t\\N\t", f);
    }

    /* version submitted_at closed_at updated_at */
    fprintf(f, "%d\t%s\t%s\t%s\n", a->version,
            dgj_gen_time(submitted, t8), dgj_gen_time(a->closed, t9),
            dgj_gen_time(a->updated, t1));
}


static void
dgj_gen_write_personal(uint32_t id)
{
    int       i, sum, y, m, d;
    char      idn[64];
    uint32_t  mobile;

    static const int   wt[] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5,
                                8, 4, 2 };
    static const char  check[] = "10X98765432";
    static const char  prefixes[][4] = {
        "135", "136", "137", "138", "139", "150", "158", "186", "188", "133",
        "177", "199", "189", "182", "159", "147"
    };

    if (dgj_gen_u() < 0.92) {
        fprintf(dgj_gen_f_personal, "%u\t%s%s%s\t", id,
                dgj_gen_surnames[dgj_gen_n(47)], dgj_gen_given[dgj_gen_n(32)],
                dgj_gen_u() < 0.6 ? dgj_gen_given[dgj_gen_n(32)] : "");

    } else {
        fprintf(dgj_gen_f_personal, "%u\t\t", id);
    }

    mobile = dgj_gen_n(100000000);
    fprintf(dgj_gen_f_personal, "%s%08u\t", prefixes[dgj_gen_n(16)], mobile);

    if (dgj_gen_u() >= 0.2) {
        fputs("\\N\n", dgj_gen_f_personal);
        return;
    }

    /* a valid resident ID number (GB 11643 check character) */
    y = 1950 + (int) dgj_gen_n(56);
    m = 1 + (int) dgj_gen_n(12);
    d = 1 + (int) dgj_gen_n(28);
    snprintf(idn, sizeof(idn), "441900%04d%02d%02d%03u", y, m, d,
             dgj_gen_n(1000));

    sum = 0;
    for (i = 0; i < 17; i++) {
        sum += (idn[i] - '0') * wt[i];
    }

    idn[17] = check[sum % 11];
    idn[18] = '\0';

    fprintf(dgj_gen_f_personal, "%s\n", idn);
}


static void
dgj_gen_write_events(void)
{
    char                    at[40], due[32];
    size_t                  i;
    FILE                   *f = dgj_gen_f_events;
    const dgj_gen_event_t  *e;

    qsort(dgj_gen_events, dgj_gen_nevents, sizeof(dgj_gen_event_t),
          dgj_gen_event_cmp);

    for (i = 0; i < dgj_gen_nevents; i++) {
        e = &dgj_gen_events[i];

        dgj_gen_time(e->at_ms / 1000, at);
        snprintf(at + 19, sizeof(at) - 19, ".%03d", (int) (e->at_ms % 1000));

        /* id appeal_id at actor role dept action from to reason comment
         * visibility due_at_set target task request_id */
        fprintf(f, "%zu\t%u\t%s\t", i + 1, e->appeal, at);

        if (e->actor) {
            fprintf(f, "%u\t", e->actor);

        } else {
            fputs("\\N\t", f);
        }

        fprintf(f, "%s\t", dgj_gen_roles[e->role]);

        if (e->dept) {
            fprintf(f, "%u\t", e->dept);

        } else {
            fputs("\\N\t", f);
        }

        fprintf(f, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t",
                dgj_gen_actions[e->action].name,
                e->from >= 0 ? dgj_gen_states[e->from] : "\\N",
                dgj_gen_states[e->to],
                e->reason >= 0 ? dgj_gen_reasons[e->reason] : "\\N",
                e->action == A_REJECT ? "诉求不属于受理范围, 已告知诉求人"
                : e->action == A_RETURN ? "依据部门职责清单, 该事项不属本单位"
                : e->action == A_UPHOLD || e->action == A_DISMISS
                ? "经回访核实" : "\\N",
                dgj_gen_actions[e->action].public ? "public" : "internal",
                dgj_gen_time(e->due_set, due));

        if (e->target) {
            fprintf(f, "%u\t", e->target);

        } else {
            fputs("\\N\t", f);
        }

        if (e->role == R_SYSTEM) {
            fputs("\\N\t\\N\n", f);

        } else {
            fprintf(f, "\\N\t%016" PRIx64 "%016" PRIx64 "\n",
                    dgj_gen_mix((uint64_t) e->at_ms), dgj_gen_mix(i + 1));
        }
    }
}


/* "YYYY-MM-DD HH:MM:SS" Beijing time in buf, or \N for 0 */
static const char *
dgj_gen_time(int64_t t, char *buf)
{
    time_t     s;
    struct tm  tm;

    if (t == 0) {
        return strcpy(buf, "\\N");
    }

    s = (time_t) (t + DGJ_GEN_BEIJING);
    gmtime_r(&s, &tm);
    strftime(buf, 32, "%Y-%m-%d %H:%M:%S", &tm);

    return buf;
}


/* events by time, then by appeal (int64_t first in both sorted types) */
static int
dgj_gen_event_cmp(const void *x, const void *y)
{
    int64_t  a = *(const int64_t *) x, b = *(const int64_t *) y;

    return a < b ? -1 : a > b;
}


/* splitmix64: fast, and the same data for the same seed */
static double
dgj_gen_u(void)
{
    return (dgj_gen_mix(dgj_gen_rng += 0x9e3779b97f4a7c15ULL) >> 11)
           * (1.0 / 9007199254740992.0);
}


static uint64_t
dgj_gen_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;

    return z ^ (z >> 31);
}


static uint32_t
dgj_gen_n(uint32_t n)
{
    return n ? (uint32_t) (dgj_gen_u() * n) : 0;
}


static int
dgj_gen_pick(const double *w, int n)
{
    int     i;
    double  total, x;

    total = 0;
    for (i = 0; i < n; i++) {
        total += w[i];
    }

    x = dgj_gen_u() * total;
    for (i = 0; i < n - 1; i++) {
        x -= w[i];
        if (x < 0) {
            return i;
        }
    }

    return n - 1;
}


static FILE *
dgj_gen_open(const char *dir, const char *name)
{
    char   path[4096];
    FILE  *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);

    f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "dgj-gen-appeals: %s: %s\n", path, strerror(errno));
        return NULL;
    }

    setvbuf(f, NULL, _IOFBF, 1 << 20);

    return f;
}
