//! Training across processes, on one machine or many, through MPI: the standard engine that
//! Horovod and HPC clusters use.
//!
//! Start K copies of a training program with `mpirun -np K PROGRAM …` (built with the `mpi`
//! feature, over the system's Open MPI). Each copy is a *rank*. [`crate::train::Trainer`] cuts
//! every batch into `K × workers` contiguous shards, rank r takes shards `r·workers` to
//! `(r+1)·workers − 1` (its workers step them as [`crate::train::TrainConfig::workers`] says),
//! and the ranks' gradients are summed weighted by examples (target tokens) with one
//! `MPI_Allreduce` over one flattened buffer per step; every rank then takes the same optimizer
//! step, so the replicas stay identical. Shard k draws its dropout masks from the same
//! generator it would on one machine, so K ranks × W workers compute what one process with K·W
//! workers computes, up to float rounding.
//!
//! Without the `mpi` feature, or in a process not started by `mpirun`, there is one rank and
//! nothing here communicates.

/// This process's place among the training processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ranks {
    /// This process's rank, 0 to `size − 1`; rank 0 writes the run's files.
    pub rank: usize,
    /// The number of processes training together.
    pub size: usize,
}

impl Ranks {
    /// One process alone.
    pub const ALONE: Self = Self { rank: 0, size: 1 };

    /// The ranks of this process: from MPI when built with the `mpi` feature and started by
    /// `mpirun` (MPI is initialised on the first call, which must come from the thread that
    /// trains), else [`Ranks::ALONE`].
    pub fn current() -> Self {
        #[cfg(feature = "mpi")]
        {
            mpi_ranks::current()
        }
        #[cfg(not(feature = "mpi"))]
        {
            Self::ALONE
        }
    }

    /// Whether this process writes the run's files (rank 0).
    pub fn is_writer(&self) -> bool {
        self.rank == 0
    }

    /// Sums `values` elementwise over all ranks, in place, in one collective call; a no-op
    /// alone.
    pub fn sum(&self, values: &mut [f32]) {
        if self.size > 1 {
            #[cfg(feature = "mpi")]
            mpi_ranks::sum(values);
        }
        let _ = values;
    }

    /// Ends the run on every rank with `code` after an error on this one, so that no rank
    /// waits for a step that will not come (`MPI_Abort`; mpirun names the rank). Alone it
    /// returns.
    pub fn abort(&self, code: i32) {
        if self.size > 1 {
            #[cfg(feature = "mpi")]
            mpi_ranks::abort(code);
        }
        let _ = code;
    }
}

/// Shuts MPI down cleanly (`MPI_Finalize`) when it was started; call once at the end of a
/// program that trained with ranks. Harmless otherwise.
pub fn finish() {
    #[cfg(feature = "mpi")]
    mpi_ranks::finish();
}

#[cfg(feature = "mpi")]
mod mpi_ranks {
    use std::sync::Mutex;

    use mpi::collective::SystemOperation;
    use mpi::environment::Universe;
    use mpi::traits::{Communicator, CommunicatorCollectives};

    use super::Ranks;

    /// MPI, once started: its universe (dropping it finalises MPI) and the world's ranks.
    static STATE: Mutex<Option<(Universe, Ranks)>> = Mutex::new(None);
    static STARTED: std::sync::OnceLock<Ranks> = std::sync::OnceLock::new();

    /// Whether `mpirun` (Open MPI, or a PMI launcher) started this process.
    fn launched_by_mpirun() -> bool {
        ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"]
            .iter()
            .any(|name| std::env::var_os(name).is_some())
    }

    pub(super) fn current() -> Ranks {
        *STARTED.get_or_init(|| {
            if !launched_by_mpirun() {
                return Ranks::ALONE;
            }
            let Some(universe) = mpi::initialize() else {
                return Ranks::ALONE;
            };
            let world = universe.world();
            let ranks = Ranks {
                rank: usize::try_from(world.rank()).unwrap_or(0),
                size: usize::try_from(world.size()).unwrap_or(1),
            };
            *STATE.lock().unwrap_or_else(|p| p.into_inner()) = Some((universe, ranks));
            ranks
        })
    }

    pub(super) fn sum(values: &mut [f32]) {
        let state = STATE.lock().unwrap_or_else(|p| p.into_inner());
        let Some((universe, _)) = state.as_ref() else {
            return;
        };
        let send = values.to_vec();
        universe
            .world()
            .all_reduce_into(&send[..], values, SystemOperation::sum());
    }

    pub(super) fn abort(code: i32) {
        let state = STATE.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((universe, _)) = state.as_ref() {
            universe.world().abort(code);
        }
    }

    pub(super) fn finish() {
        // Dropping the universe calls MPI_Finalize.
        drop(STATE.lock().unwrap_or_else(|p| p.into_inner()).take());
    }
}
