
/*
 * Copyright (C) Daguanjia
 *
 * dgj_workflow_board.h: the supervision board and department assessment
 * API (/api/v1/board...), dgj_workflow_board.c; docs/console-admin.md.
 */


#ifndef DGJ_WORKFLOW_BOARD_H
#define DGJ_WORKFLOW_BOARD_H


#include "dgj_core.h"
#include "dgj_router.h"


extern const dgj_route_t  dgj_board_routes[];


#endif /* DGJ_WORKFLOW_BOARD_H */
