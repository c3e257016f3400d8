/* Plain C MPI peer for bench/allreduce.bench.ts: MPI_Allreduce (in place, float32 sum) of 1 KB
 * to 64 MB, median of 20 calls (5 from 16 MB), each after a barrier; rank 0 prints
 * "<KB> KB <microseconds> us" per size (the slowest rank's median). What a C program gets from
 * the same MPI on the same link: the floor for our addon's latency and the library's own
 * algorithm choice. Built by tools/netns-cluster.mjs --c-peer (mpicc). */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank, size; MPI_Comm_rank(MPI_COMM_WORLD, &rank); MPI_Comm_size(MPI_COMM_WORLD, &size);
  for (long bytes = 1024; bytes <= (64l << 20); bytes *= 4) {
    long n = bytes / 4; float* b = calloc(n, 4);
    int reps = bytes >= (16 << 20) ? 5 : 20; double ts[64];
    for (int i = 0; i < 3; i++) MPI_Allreduce(MPI_IN_PLACE, b, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    for (int i = 0; i < reps; i++) { MPI_Barrier(MPI_COMM_WORLD); double t0 = MPI_Wtime(); MPI_Allreduce(MPI_IN_PLACE, b, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD); ts[i] = MPI_Wtime() - t0; }
    for (int i = 0; i < reps; i++) for (int j = i + 1; j < reps; j++) if (ts[j] < ts[i]) { double t = ts[i]; ts[i] = ts[j]; ts[j] = t; }
    double med = ts[reps / 2]; MPI_Allreduce(MPI_IN_PLACE, &med, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    if (rank == 0) printf("%ld KB %.1f us\n", bytes / 1024, med * 1e6);
    free(b);
  }
  MPI_Finalize();
}
