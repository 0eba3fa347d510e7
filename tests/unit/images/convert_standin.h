/* What the hull-convert stand-in (convert_standin.c) reports for its
 * "report" request, as it saw itself from the inside. */
#ifndef HULL_TESTS_CONVERT_STANDIN_H
#define HULL_TESTS_CONVERT_STANDIN_H

struct standin_seen {
	unsigned uid, gid, nfds;
	int work_ok;	   /* fd CONVPROC_FD_WORK: the character device passed */
	int req_closed;	   /* the request's fd, closed once read */
	int others_closed; /* nothing above the work fds */
	int dumpable;	   /* PR_GET_DUMPABLE */
};

#endif
