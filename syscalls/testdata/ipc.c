/* ipc.c: System V shared memory, semaphores and message queues: keys
 * and IPC_CREAT/IPC_EXCL, permissions, the ctl commands, memory shared
 * across fork, semaphores sequencing two processes, SEM_UNDO at exit,
 * message types. Identifiers are not printed (only compared), so the
 * output does not depend on the namespace's history. */
#include "difftest.h"
#include <signal.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

static void shm(void) {
	res("shmget size 0", shmget(IPC_PRIVATE, 0, 0600));
	res("shmget missing", shmget(0x1234, 4096, 0600));
	int id = shmget(0x1234, 10000, IPC_CREAT | 0640);
	out("shmget ok %d\n", id >= 0);
	res("shmget excl", shmget(0x1234, 10000, IPC_CREAT | IPC_EXCL | 0600));
	out("shmget same %d\n", shmget(0x1234, 5000, 0) == id);
	res("shmget bigger", shmget(0x1234, 20000, 0));
	struct shmid_ds ds;
	res("IPC_STAT", shmctl(id, IPC_STAT, &ds));
	out("key %x mode %o size %zu nattch %lu cpid ok %d\n", ds.shm_perm.__key, ds.shm_perm.mode,
	    ds.shm_segsz, (unsigned long)ds.shm_nattch, ds.shm_cpid == getpid());
	char *p = shmat(id, NULL, 0);
	out("shmat ok %d\n", p != (void *)-1);
	strcpy(p, "parent");
	shmctl(id, IPC_STAT, &ds);
	out("nattch %lu lpid ok %d\n", (unsigned long)ds.shm_nattch, ds.shm_lpid == getpid());
	pid_t c = fork();
	if (c == 0) {
		struct shmid_ds d2;
		shmctl(id, IPC_STAT, &d2);
		out("child sees %s nattch %lu\n", p, (unsigned long)d2.shm_nattch);
		strcpy(p, "child");
		char *q = shmat(id, NULL, SHM_RDONLY);
		out("child second view %s\n", q);
		res("child shmdt", shmdt(q));
		_exit(0);
	}
	waitpid(c, NULL, 0);
	out("parent sees %s\n", p);
	shmctl(id, IPC_STAT, &ds);
	out("nattch %lu\n", (unsigned long)ds.shm_nattch);
	res("shmdt mid", shmdt(p + 4096));
	res("shmdt unaligned", shmdt(p + 1));
	char *fixed = shmat(id, p + 100, SHM_RND);
	out("rnd same %d\n", fixed == p);
	res("shmat overlap", (long)shmat(id, p, 0));
	res("shmat unaligned", (long)shmat(id, p + 100, 0));
	char *r = shmat(id, p, SHM_REMAP);
	out("remap same %d\n", r == p);
	res("shmdt", shmdt(p));
	res("shmdt again", shmdt(p));
	res("shmat bad id", (long)shmat(id + 1, NULL, 0));
	/* Removed while attached: the key is freed, the memory lives on
	 * until the last detach. */
	p = shmat(id, NULL, 0);
	res("IPC_RMID", shmctl(id, IPC_RMID, NULL));
	shmctl(id, IPC_STAT, &ds);
	out("after rmid key %x dest %d nattch %lu\n", ds.shm_perm.__key, (ds.shm_perm.mode & SHM_DEST) != 0,
	    (unsigned long)ds.shm_nattch);
	out("still %s\n", p);
	int id2 = shmget(0x1234, 100, IPC_CREAT | 0600);
	out("new key id differs %d\n", id2 != id);
	res("shmdt last", shmdt(p));
	res("IPC_STAT gone", shmctl(id, IPC_STAT, &ds));
	ds.shm_perm.mode = 0400;
	res("IPC_SET", shmctl(id2, IPC_SET, &ds));
	shmctl(id2, IPC_STAT, &ds);
	out("mode %o\n", ds.shm_perm.mode);
	c = fork();
	if (c == 0) {
		setresuid(1000, 1000, 1000);
		res("user shmat", (long)shmat(id2, NULL, 0));
		res("user IPC_STAT", shmctl(id2, IPC_STAT, &ds));
		res("user IPC_RMID", shmctl(id2, IPC_RMID, NULL));
		_exit(0);
	}
	waitpid(c, NULL, 0);
	/* Read-only attachments cannot be made writable. */
	char *ro = shmat(id2, NULL, SHM_RDONLY);
	res("mprotect ro", mprotect(ro, 4096, PROT_READ | PROT_WRITE));
	shmdt(ro);
	res("rmid", shmctl(id2, IPC_RMID, NULL));
	res("bad cmd", shmctl(id2, 99, NULL));
	struct shminfo si;
	out("IPC_INFO ok %d\n", shmctl(0, IPC_INFO, (struct shmid_ds *)&si) >= 0);
	out("shmmni %lu shmmin %lu\n", si.shmmni, si.shmmin);
}

static void sem(void) {
	res("semget nsems 0", semget(IPC_PRIVATE, 0, 0600));
	res("semget nsems big", semget(IPC_PRIVATE, 40000, 0600));
	int id = semget(0x4321, 3, IPC_CREAT | 0600);
	out("semget ok %d\n", id >= 0);
	res("semget more", semget(0x4321, 4, 0));
	res("semget fewer", semget(0x4321, 2, 0) == id);
	res("SETVAL", semctl(id, 0, SETVAL, (union semun){.val = 2}));
	res("SETVAL range", semctl(id, 0, SETVAL, (union semun){.val = 40000}));
	res("SETVAL neg", semctl(id, 0, SETVAL, (union semun){.val = -1}));
	res("GETVAL", semctl(id, 0, GETVAL));
	res("GETVAL bad num", semctl(id, 5, GETVAL));
	unsigned short vals[3] = {2, 0, 7};
	res("SETALL", semctl(id, 0, SETALL, (union semun){.array = vals}));
	memset(vals, 0, sizeof vals);
	res("GETALL", semctl(id, 0, GETALL, (union semun){.array = vals}));
	out("vals %d %d %d\n", vals[0], vals[1], vals[2]);
	res("GETPID ok", semctl(id, 0, GETPID) == getpid());
	struct sembuf op = {0, -1, 0};
	res("semop -1", semop(id, &op, 1));
	res("GETVAL", semctl(id, 0, GETVAL));
	struct sembuf two[2] = {{0, -1, 0}, {1, -1, IPC_NOWAIT}};
	res("semop all-or-nothing", semop(id, two, 2));
	res("GETVAL unchanged", semctl(id, 0, GETVAL));
	op = (struct sembuf){5, 1, 0};
	res("semop bad num", semop(id, &op, 1));
	res("semop zero ops", semop(id, &op, 0));
	op = (struct sembuf){2, 32767, 0};
	res("semop range", semop(id, &op, 1));
	struct timespec ts = {0, 10000000};
	op = (struct sembuf){1, -1, 0};
	res("semtimedop timeout", semtimedop(id, &op, 1, &ts));
	ts.tv_nsec = -1;
	res("semtimedop bad ts", semtimedop(id, &op, 1, &ts));

	/* Two processes take turns through the semaphores: the child waits
	 * on #1, the parent on #2. */
	semctl(id, 1, SETVAL, (union semun){.val = 0});
	semctl(id, 2, SETVAL, (union semun){.val = 0});
	pid_t c = fork();
	if (c == 0) {
		for (int i = 0; i < 3; i++) {
			struct sembuf w = {1, -1, 0}, s = {2, 1, 0};
			semop(id, &w, 1);
			out("child turn %d\n", i);
			semop(id, &s, 1);
		}
		_exit(0);
	}
	for (int i = 0; i < 3; i++) {
		struct sembuf s = {1, 1, 0}, w = {2, -1, 0};
		out("parent turn %d\n", i);
		semop(id, &s, 1);
		semop(id, &w, 1);
	}
	waitpid(c, NULL, 0);

	/* A waiter shows in GETNCNT; SEM_UNDO is undone at exit. */
	int go[2];
	pipe(go);
	c = fork();
	if (c == 0) {
		struct sembuf u = {0, 5, SEM_UNDO};
		semop(id, &u, 1);
		write(go[1], "x", 1);
		struct sembuf w = {1, -1, 0};
		semop(id, &w, 1);
		_exit(0);
	}
	char b;
	read(go[0], &b, 1);
	res("GETVAL with child's undo", semctl(id, 0, GETVAL));
	while (semctl(id, 1, GETNCNT) != 1)
		sched_yield();
	res("GETNCNT", semctl(id, 1, GETNCNT));
	res("GETZCNT", semctl(id, 1, GETZCNT));
	op = (struct sembuf){1, 1, 0};
	semop(id, &op, 1);
	waitpid(c, NULL, 0);
	res("GETVAL after child exit", semctl(id, 0, GETVAL));

	/* Removal wakes a sleeper with EIDRM. */
	c = fork();
	if (c == 0) {
		struct sembuf w = {1, -1, 0};
		write(go[1], "x", 1);
		res("child semop on removed", semop(id, &w, 1));
		_exit(0);
	}
	read(go[0], &b, 1);
	while (semctl(id, 1, GETNCNT) != 1)
		sched_yield();
	struct semid_ds ds;
	res("IPC_STAT", semctl(id, 0, IPC_STAT, (union semun){.buf = &ds}));
	out("nsems %lu mode %o\n", (unsigned long)ds.sem_nsems, ds.sem_perm.mode);
	int rm = semctl(id, 0, IPC_RMID);
	waitpid(c, NULL, 0);
	res("IPC_RMID", rm);
	res("GETVAL removed", semctl(id, 0, GETVAL));
	struct seminfo si;
	res("SEM_INFO ok", semctl(0, 0, IPC_INFO, (union semun){.buf = (void *)&si}) >= 0);
	out("semmsl %d semopm %d semvmx %d\n", si.semmsl, si.semopm, si.semvmx);
}

struct mbuf {
	long mtype;
	char text[32];
};

static void msg(void) {
	res("msgget missing", msgget(0x777, 0));
	int id = msgget(0x777, IPC_CREAT | 0600);
	out("msgget ok %d\n", id >= 0);
	res("msgget excl", msgget(0x777, IPC_CREAT | IPC_EXCL));
	struct mbuf m;
	const char *texts[] = {"a3", "b1", "c2", "d1", "e3"};
	long types[] = {3, 1, 2, 1, 3};
	for (int i = 0; i < 5; i++) {
		m.mtype = types[i];
		strcpy(m.text, texts[i]);
		res("msgsnd", msgsnd(id, &m, strlen(m.text) + 1, 0));
	}
	m.mtype = 0;
	res("msgsnd type 0", msgsnd(id, &m, 3, 0));
	res("msgsnd too big", msgsnd(id, &m, 9000, 0));
	struct msqid_ds ds;
	res("IPC_STAT", msgctl(id, IPC_STAT, &ds));
	out("qnum %lu cbytes %lu qbytes %lu lspid ok %d\n", (unsigned long)ds.msg_qnum,
	    (unsigned long)ds.__msg_cbytes, (unsigned long)ds.msg_qbytes, ds.msg_lspid == getpid());
	ssize_t n = msgrcv(id, &m, sizeof m.text, 1, 0);
	out("type 1: %s (%zd)\n", m.text, n);
	n = msgrcv(id, &m, sizeof m.text, -2, 0);
	out("type <=2: %s type %ld\n", m.text, m.mtype);
	n = msgrcv(id, &m, sizeof m.text, 3, MSG_EXCEPT);
	out("not 3: %s type %ld\n", m.text, m.mtype);
	res("small buf", msgrcv(id, &m, 1, 0, 0));
	n = msgrcv(id, &m, 1, 0, MSG_NOERROR);
	out("noerror %zd type %ld first %c\n", n, m.mtype, m.text[0]);
	n = msgrcv(id, &m, sizeof m.text, 0, 0);
	out("any: %s\n", m.text);
	res("empty nowait", msgrcv(id, &m, sizeof m.text, 0, IPC_NOWAIT));
	res("type 9 nowait", msgrcv(id, &m, sizeof m.text, 9, IPC_NOWAIT));

	/* A receiver blocks until its type arrives. */
	int go[2];
	pipe(go);
	pid_t c = fork();
	if (c == 0) {
		struct mbuf r;
		write(go[1], "x", 1);
		ssize_t k = msgrcv(id, &r, sizeof r.text, 7, 0);
		out("child got %s (%zd)\n", r.text, k);
		_exit(0);
	}
	char b;
	read(go[0], &b, 1);
	m.mtype = 7;
	strcpy(m.text, "seven");
	int r = msgsnd(id, &m, 6, 0);
	waitpid(c, NULL, 0);
	res("send to waiter", r);

	/* A full queue: IPC_NOWAIT is EAGAIN. */
	ds.msg_qbytes = 10;
	res("IPC_SET qbytes", msgctl(id, IPC_SET, &ds));
	m.mtype = 1;
	res("fill", msgsnd(id, &m, 8, 0));
	res("full nowait", msgsnd(id, &m, 8, IPC_NOWAIT));
	c = fork();
	if (c == 0) {
		setresuid(1000, 1000, 1000);
		res("user msgsnd", msgsnd(id, &m, 1, IPC_NOWAIT));
		res("user IPC_RMID", msgctl(id, IPC_RMID, NULL));
		_exit(0);
	}
	waitpid(c, NULL, 0);
	msgrcv(id, &m, sizeof m.text, 0, 0);
	res("IPC_RMID", msgctl(id, IPC_RMID, NULL));
	res("msgsnd removed", msgsnd(id, &m, 1, 0));
	struct msginfo mi;
	res("IPC_INFO ok", msgctl(0, IPC_INFO, (struct msqid_ds *)&mi) >= 0);
	out("msgmax %d msgmnb %d\n", mi.msgmax, mi.msgmnb);
}

int main(void) {
	shm();
	sem();
	msg();
	return 0;
}
