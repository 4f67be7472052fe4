//! The module's allocator: power-of-two size classes, each with a free list.
//!
//! std's default for WebAssembly (dlmalloc) is about 6 KB of code; this one
//! is a few hundred bytes and takes and frees a block in a few instructions.
//! A block's class follows from the size and alignment the caller passes to
//! both `alloc` and `dealloc`, so blocks carry no header. A freed block goes
//! to the front of its class's list and is the next one that class hands
//! out, so a page that keeps chatting reuses the same blocks: memory grows
//! to the largest working set of each class, never with the length of the
//! conversation. Memory is never handed back to the browser (WebAssembly
//! memory cannot shrink), and blocks of one class never serve another.
//!
//! The lists are plain memory words, so this module needs `unsafe`: each
//! block is written only while it is free (its first word links the list).

use std::alloc::{GlobalAlloc, Layout};
use std::cell::UnsafeCell;
use std::ptr;

/// The smallest block: room for the link of a free block, and the
/// alignment every block gets.
const MIN_CLASS: u32 = 3;
/// Classes up to 2^31 bytes (all of a 32-bit address space, in principle).
const CLASSES: usize = 32;
/// WebAssembly memory grows by pages of 64 KiB.
const PAGE: usize = 64 * 1024;

/// Where fresh memory comes from: the WebAssembly memory in the module, a
/// test's arena in the tests.
pub(crate) trait Pages {
    /// Adds `pages` pages at the end; the address of the first one, or `None`.
    fn grow(&mut self, pages: usize) -> Option<usize>;
}

/// The allocator's state: the head of each class's free list, and the
/// not yet used memory `[next, end)`.
#[derive(Debug)]
pub(crate) struct Heap<P> {
    free: [usize; CLASSES],
    next: usize,
    end: usize,
    pages: P,
}

impl<P: Pages> Heap<P> {
    pub(crate) const fn new(pages: P) -> Heap<P> {
        Heap { free: [0; CLASSES], next: 0, end: 0, pages }
    }

    /// The class of a layout: the smallest power of two that holds its size
    /// and its alignment.
    fn class(layout: Layout) -> usize {
        let size = layout.size().max(layout.align()).max(1 << MIN_CLASS);
        (usize::BITS - (size - 1).leading_zeros()) as usize
    }

    /// A block for `layout`, or 0 when memory is exhausted.
    ///
    /// # Safety
    /// Every address on a free list is a block of that class that was handed
    /// out by this heap and freed; the caller frees only such blocks.
    pub(crate) unsafe fn alloc(&mut self, layout: Layout) -> usize {
        let class = Self::class(layout);
        let Some(head) = self.free.get_mut(class).filter(|_| layout.align() <= PAGE) else { return 0 };
        // Every block of a class is aligned as the class (up to a page), so
        // a reused one suits any layout of the class.
        if *head != 0 {
            let block = *head;
            // SAFETY: `block` is a free block of this class; its first word links the list.
            *head = unsafe { ptr::with_exposed_provenance::<usize>(block).read() };
            return block;
        }
        self.fresh(class)
    }

    /// Carves a block of `class` from the unused memory, aligned to its size
    /// (up to a page), growing the memory when needed.
    fn fresh(&mut self, class: usize) -> usize {
        let size = 1usize << class;
        let align = size.min(PAGE);
        let start = (self.next + align - 1) & !(align - 1);
        if start.checked_add(size).is_none_or(|end| end > self.end) {
            let pages = size.div_ceil(PAGE) + 1;
            let Some(base) = self.pages.grow(pages) else { return 0 };
            if base != self.end {
                // Someone else grew the memory in between: start over at the new pages.
                self.next = base;
            }
            self.end = base + pages * PAGE;
            return self.fresh(class);
        }
        self.next = start + size;
        start
    }

    /// Returns a block to its class's list.
    ///
    /// # Safety
    /// `block` was handed out by [`Heap::alloc`] for a layout of the same
    /// class and is not used any more.
    pub(crate) unsafe fn dealloc(&mut self, block: usize, layout: Layout) {
        let class = Self::class(layout);
        if let Some(head) = self.free.get_mut(class) {
            // SAFETY: the block is at least a word long and no longer in use.
            unsafe { ptr::with_exposed_provenance_mut::<usize>(block).write(*head) };
            *head = block;
        }
    }
}

/// The WebAssembly memory of this module.
#[cfg(target_arch = "wasm32")]
#[derive(Debug)]
pub(crate) struct Memory;

#[cfg(target_arch = "wasm32")]
impl Pages for Memory {
    fn grow(&mut self, pages: usize) -> Option<usize> {
        let before = core::arch::wasm32::memory_grow(0, pages);
        (before != usize::MAX).then(|| before * PAGE)
    }
}

/// The global allocator: one [`Heap`] for the one thread a page runs.
#[derive(Debug)]
pub(crate) struct Global<P>(pub UnsafeCell<Heap<P>>);

#[cfg(target_feature = "atomics")]
compile_error!("the allocator assumes a single thread: build without atomics");

// SAFETY: without the atomics feature a WebAssembly module runs on one
// thread, so the heap is never used from two at once.
unsafe impl<P> Sync for Global<P> {}

unsafe impl<P: Pages> GlobalAlloc for Global<P> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: single thread (above), and no call re-enters the allocator.
        let block = unsafe { (*self.0.get()).alloc(layout) };
        ptr::with_exposed_provenance_mut(block)
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        // SAFETY: as in `alloc`; the caller passes a block this allocator gave out with `layout`.
        unsafe { (*self.0.get()).dealloc(block.expose_provenance(), layout) }
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller passes a valid block and a size that makes a valid layout.
        let new = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        if Heap::<P>::class(new) == Heap::<P>::class(layout) {
            // The block already has room: growing a string rarely moves it.
            return block;
        }
        // SAFETY: as in `alloc`; the old block is copied, then freed.
        unsafe {
            let moved = self.alloc(new);
            if !moved.is_null() {
                ptr::copy_nonoverlapping(block, moved, layout.size().min(new_size));
                self.dealloc(block, layout);
            }
            moved
        }
    }
}

#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: Global<Memory> = Global(UnsafeCell::new(Heap::new(Memory)));

#[cfg(test)]
mod tests {
    use super::*;

    /// Real memory standing in for the WebAssembly memory: 64 MiB reserved
    /// up front (only the words the heap links are ever touched), handed
    /// out page by page, and counted.
    struct Arena {
        base: usize,
        pages: usize,
    }

    const ARENA_PAGES: usize = 1024;

    impl Arena {
        fn new() -> Arena {
            let layout = Layout::from_size_align(ARENA_PAGES * PAGE, PAGE).unwrap();
            Arena { base: unsafe { std::alloc::alloc(layout) }.expose_provenance(), pages: 0 }
        }
    }

    impl Pages for Arena {
        fn grow(&mut self, pages: usize) -> Option<usize> {
            if self.pages + pages > ARENA_PAGES {
                return None;
            }
            let at = self.base + self.pages * PAGE;
            self.pages += pages;
            Some(at)
        }
    }

    fn layout(size: usize) -> Layout {
        Layout::from_size_align(size, 8).unwrap()
    }

    #[test]
    fn classes_hold_the_size_and_the_alignment() {
        let class = |size, align| Heap::<Arena>::class(Layout::from_size_align(size, align).unwrap());
        assert_eq!((class(0, 1), class(8, 8), class(9, 1), class(16, 16)), (3, 3, 4, 4));
        assert_eq!((class(1, 32), class(1000, 8), class(1024, 8), class(1025, 8)), (5, 10, 10, 11));
    }

    #[test]
    fn blocks_are_aligned_to_their_class_and_never_overlap() {
        let mut heap = Heap::new(Arena::new());
        let mut blocks: Vec<(usize, usize)> = Vec::new();
        for size in [8, 24, 100, 3, 70_000, 16, 5000, 1 << 20, 64] {
            let block = unsafe { heap.alloc(layout(size)) };
            let class = 1 << Heap::<Arena>::class(layout(size));
            assert_eq!(block % class.min(PAGE), 0, "block of {size} bytes at {block:#x}");
            assert!(blocks.iter().all(|&(b, c)| block + class <= b || b + c <= block), "{block:#x} overlaps");
            blocks.push((block, class));
        }
    }

    #[test]
    fn a_freed_block_is_the_next_one_of_its_class() {
        let mut heap = Heap::new(Arena::new());
        let a = unsafe { heap.alloc(layout(40)) };
        let b = unsafe { heap.alloc(layout(40)) };
        unsafe { heap.dealloc(a, layout(33)) };
        assert_eq!(unsafe { heap.alloc(layout(64)) }, a, "the same class (64 bytes) reuses the block");
        assert_ne!(unsafe { heap.alloc(layout(40)) }, b);
    }

    /// The allocation pattern of a long chat: each turn allocates a frame's
    /// strings and lists of varying sizes (now and then a large one), then
    /// frees them, while some blocks stay. After the first pass over the
    /// turns' shapes, memory never grows again.
    #[test]
    fn a_long_chat_reuses_its_memory() {
        let mut heap = Heap::new(Arena::new());
        let mut seed = 7u64;
        let mut random = move |n: u64| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        let turns: Vec<Vec<usize>> = (0..100)
            .map(|_| {
                let count = 1 + random(60);
                (0..count)
                    .map(|_| {
                        let range = if random(20) == 0 { 200_000 } else { 300 };
                        1 + random(range) as usize
                    })
                    .collect()
            })
            .collect();
        // Held to the end: blocks that stay live between the turns.
        let _kept: Vec<usize> = (0..50).map(|_| unsafe { heap.alloc(layout(48)) }).collect();
        let mut pages = Vec::new();
        for pass in 0..200 {
            for (turn, sizes) in turns.iter().enumerate() {
                let live: Vec<usize> = sizes.iter().map(|&size| unsafe { heap.alloc(layout(size)) }).collect();
                // Freed in an order that changes from turn to turn.
                for (i, (&block, &size)) in live.iter().zip(sizes).enumerate() {
                    if (i + turn + pass) % 2 == 0 {
                        unsafe { heap.dealloc(block, layout(size)) };
                    }
                }
                for (i, (&block, &size)) in live.iter().zip(sizes).enumerate().rev() {
                    if (i + turn + pass) % 2 == 1 {
                        unsafe { heap.dealloc(block, layout(size)) };
                    }
                }
            }
            pages.push(heap.pages.pages);
        }
        assert!(pages.iter().all(|&p| p == pages[0]), "memory grew after the first pass: {pages:?} pages");
        assert!(pages[0] < 100, "{} pages of 64 KiB", pages[0]);
    }
}
