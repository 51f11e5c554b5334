// The 2-D window loader shared by the load unit (input, weight) and the compute unit
// (micro-op, accumulator): y_size rows of x_size entries, row r from DRAM entry
// dram_base + r*x_stride, written densely from sram_base inside a frame of zero padding
// ((y_pad_0+y_size+y_pad_1) x (x_pad_0+x_size+x_pad_1) entries, one RAM write per cycle).
//
// Entries are 2**log_eb_i bytes. An entry at least as wide as the bus is gathered from
// consecutive beats; a narrower one (a 4-byte micro-op on a wider bus) is cut out of a beat,
// and a row may then start or end mid-beat. Row requests run ahead of the writes, so DRAM
// latency overlaps. A window past the end of the 2**log_depth_i-entry buffer raises oor_o
// instead of starting. With x_size or y_size 0 nothing is written, not even the padding.
`default_nettype none

module tessera_loader #(
    parameter integer MAXW = 128
) (
    input  wire                  clk_i,
    input  wire                  rst_ni,
    input  wire                  clear_i,
    input  wire                  halt_i,
    input  wire                  start_i,
    input  wire [SRAM_IDX_W-1:0] sram_base_i,
    input  wire [31:0]           dram_base_i,
    input  wire [15:0]           y_size_i,
    input  wire [15:0]           x_size_i,
    input  wire [15:0]           x_stride_i,
    input  wire [3:0]            y_pad_0_i,
    input  wire [3:0]            y_pad_1_i,
    input  wire [3:0]            x_pad_0_i,
    input  wire [3:0]            x_pad_1_i,
    input  wire [3:0]            log_eb_i,
    input  wire [4:0]            log_depth_i,
    output wire                  busy_o,
    output wire                  done_o,
    output wire                  oor_o,
    // buffer write port
    output wire                  we_o,
    output wire [SRAM_IDX_W-1:0] waddr_o,
    output wire [MAXW-1:0]       wdata_o,
    // DMA reader
    output wire                  req_valid_o,
    output wire [31:0]           req_addr_o,
    output wire [31:0]           req_beats_o,
    input  wire                  req_ready_i,
    input  wire                  d_valid_i,
    input  wire [BUS_BITS-1:0]   d_data_i,
    output wire                  d_ready_o
);
`include "tessera_params.vh"

  localparam integer LOG_EPB = (LOG_BUS_BYTES > 2) ? LOG_BUS_BYTES - 2 : 0;
  localparam [3:0] EPB_LAST = (1 << LOG_EPB) - 1;

  // instruction fields, held for the whole window
  reg [15:0] ys_q, xs_q, stride_q;
  reg [3:0]  yp0_q, xp0_q, log_eb_q;
  reg [16:0] ny_q, nx_q;      // window rows and columns with padding
  // write side
  reg        active_q, active_d;
  reg [16:0] r_q, r_d, c_q, c_d;
  reg [SRAM_IDX_W-1:0] waddr_q, waddr_d;
  reg [31:0] wr_ent_q, wr_ent_d;  // DRAM entry of the current data row
  // request side
  reg        rq_active_q, rq_active_d;
  reg [15:0] rq_row_q, rq_row_d;
  reg [31:0] rq_ent_q, rq_ent_d;
  // entry assembly
  reg [MAXW-1:0]     ent_q;
  reg [7:0]          ecnt_q, ecnt_d;
  reg                efull_q, efull_d;
  reg [BUS_BITS-1:0] bbuf_q;
  reg                bvalid_q, bvalid_d;
  reg [3:0]          bpos_q, bpos_d;

  wire split = log_eb_q < LOG_BUS_BYTES[3:0];

  // window geometry at start
  wire [16:0] ny = {13'd0, y_pad_0_i} + {1'b0, y_size_i} + {13'd0, y_pad_1_i};
  wire [16:0] nx = {13'd0, x_pad_0_i} + {1'b0, x_size_i} + {13'd0, x_pad_1_i};
  wire [33:0] win = ny * nx;
  wire [34:0] win_end = {1'b0, win} + {{(35-SRAM_IDX_W){1'b0}}, sram_base_i};
  wire [34:0] depth = 35'd1 << log_depth_i;
  wire        empty_win = y_size_i == 16'd0 || x_size_i == 16'd0;
  wire        oor = start_i && !empty_win && win_end > depth;

  // where we are in the window
  wire [16:0] r_rel = r_q - {13'd0, yp0_q};
  wire [16:0] c_rel = c_q - {13'd0, xp0_q};
  wire in_rows = r_q >= {13'd0, yp0_q} && r_rel < {1'b0, ys_q};
  wire in_cols = c_q >= {13'd0, xp0_q} && c_rel < {1'b0, xs_q};
  wire is_data = in_rows && in_cols;
  wire row_data_last = c_rel == {1'b0, xs_q} - 17'd1;
  wire last_cell = r_q == ny_q - 17'd1 && c_q == nx_q - 17'd1;

  // current row's byte address and, for split entries, its entry offset into the first beat
  wire [31:0] wr_byte = wr_ent_q << log_eb_q;
  wire [3:0]  wr_skip = wr_byte[5:2] & EPB_LAST;
  wire [31:0] rq_byte = rq_ent_q << log_eb_q;
  wire [3:0]  rq_skip = rq_byte[5:2] & EPB_LAST;
  wire [31:0] split_beats = ({16'd0, xs_q} + {28'd0, rq_skip} + {28'd0, EPB_LAST}) >> LOG_EPB;
  wire [31:0] whole_beats = {16'd0, xs_q} << (log_eb_q - LOG_BUS_BYTES[3:0]);
  wire [7:0]  bpe_last = (8'd1 << (log_eb_q - LOG_BUS_BYTES[3:0])) - 8'd1;

  wire ent_valid = split ? bvalid_q : efull_q;
  localparam integer EPB = 1 << LOG_EPB;
  localparam integer MAX_BEATS = (MAXW > BUS_BITS) ? MAXW / BUS_BITS : 1;
  reg [31:0] narrow;
  integer k;
  always @* begin
    narrow = bbuf_q[31:0];
    for (k = 0; k < EPB; k = k + 1)
      if (bpos_q == k[3:0]) narrow = bbuf_q[k*32 +: 32];
  end
  wire [MAXW-1:0] ent_word = split ? {{(MAXW-32){1'b0}}, narrow} : ent_q;
  wire write = active_q && !halt_i && (!is_data || ent_valid);
  wire consume = write && is_data;
  wire d_ready = split ? !bvalid_q : (!efull_q || consume);
  wire d_hs = d_valid_i && d_ready && active_q && !halt_i;
  wire req_hs = rq_active_q && !halt_i && req_ready_i;

  always @* begin
    active_d = active_q;
    r_d = r_q;
    c_d = c_q;
    waddr_d = waddr_q;
    wr_ent_d = wr_ent_q;
    rq_active_d = rq_active_q;
    rq_row_d = rq_row_q;
    rq_ent_d = rq_ent_q;
    ecnt_d = ecnt_q;
    efull_d = efull_q;
    bvalid_d = bvalid_q;
    bpos_d = bpos_q;
    if (start_i && !oor) begin
      active_d = !empty_win;
      r_d = 17'd0;
      c_d = 17'd0;
      waddr_d = sram_base_i;
      wr_ent_d = dram_base_i;
      rq_active_d = y_size_i != 16'd0 && x_size_i != 16'd0;
      rq_row_d = 16'd0;
      rq_ent_d = dram_base_i;
      ecnt_d = 8'd0;
      efull_d = 1'b0;
      bvalid_d = 1'b0;
    end
    if (write) begin
      waddr_d = waddr_q + {{(SRAM_IDX_W-1){1'b0}}, 1'b1};
      if (c_q == nx_q - 17'd1) begin
        c_d = 17'd0;
        r_d = r_q + 17'd1;
      end else begin
        c_d = c_q + 17'd1;
      end
      if (is_data && row_data_last) wr_ent_d = wr_ent_q + {16'd0, stride_q};
      if (last_cell) active_d = 1'b0;
    end
    if (req_hs) begin
      rq_row_d = rq_row_q + 16'd1;
      rq_ent_d = rq_ent_q + {16'd0, stride_q};
      if (rq_row_q == ys_q - 16'd1) rq_active_d = 1'b0;
    end
    // whole entries gathered from beats
    if (consume && !split) efull_d = 1'b0;
    if (d_hs && !split) begin
      if (ecnt_q == bpe_last) begin
        ecnt_d = 8'd0;
        efull_d = 1'b1;
      end else begin
        ecnt_d = ecnt_q + 8'd1;
      end
    end
    // narrow entries cut out of beats
    if (consume && split) begin
      bpos_d = bpos_q + 4'd1;
      if (bpos_q == EPB_LAST || row_data_last) bvalid_d = 1'b0;
    end
    if (d_hs && split) begin
      bvalid_d = 1'b1;
      bpos_d = (c_q == {13'd0, xp0_q}) ? wr_skip : 4'd0;
    end
  end

  always @(posedge clk_i) begin
    if (start_i) begin
      ys_q <= y_size_i;
      xs_q <= x_size_i;
      stride_q <= x_stride_i;
      yp0_q <= y_pad_0_i;
      xp0_q <= x_pad_0_i;
      log_eb_q <= log_eb_i;
      ny_q <= ny;
      nx_q <= nx;
    end
  end

  // the wide entry registers change only when a beat lands (cheap for a simulator)
  integer j;
  always @(posedge clk_i) begin
    if (d_hs && !split) begin
      for (j = 0; j < MAX_BEATS; j = j + 1)
        if (ecnt_q == j[7:0]) ent_q[j*BUS_BITS +: BUS_BITS] <= d_data_i;
    end
    if (d_hs && split) bbuf_q <= d_data_i;
  end

  always @(posedge clk_i) begin
    if (!rst_ni || clear_i) begin
      active_q <= 1'b0;
      r_q <= 17'd0;
      c_q <= 17'd0;
      waddr_q <= {SRAM_IDX_W{1'b0}};
      wr_ent_q <= 32'd0;
      rq_active_q <= 1'b0;
      rq_row_q <= 16'd0;
      rq_ent_q <= 32'd0;
      ecnt_q <= 8'd0;
      efull_q <= 1'b0;
      bvalid_q <= 1'b0;
      bpos_q <= 4'd0;
    end else begin
      active_q <= active_d;
      r_q <= r_d;
      c_q <= c_d;
      waddr_q <= waddr_d;
      wr_ent_q <= wr_ent_d;
      rq_active_q <= rq_active_d;
      rq_row_q <= rq_row_d;
      rq_ent_q <= rq_ent_d;
      ecnt_q <= ecnt_d;
      efull_q <= efull_d;
      bvalid_q <= bvalid_d;
      bpos_q <= bpos_d;
    end
  end

  reg done_q;
  always @(posedge clk_i) begin
    if (!rst_ni || clear_i) done_q <= 1'b0;
    else done_q <= (write && last_cell) || (start_i && !oor && empty_win);
  end

  wire unused_ok = &{1'b0, wr_byte, 1'b0};

  assign busy_o = active_q || rq_active_q;
  assign done_o = done_q;
  assign oor_o = oor;
  assign we_o = write;
  assign waddr_o = waddr_q;
  assign wdata_o = is_data ? ent_word : {MAXW{1'b0}};
  assign req_valid_o = rq_active_q && !halt_i;
  assign req_addr_o = split ? {rq_byte[31:LOG_BUS_BYTES], {LOG_BUS_BYTES{1'b0}}} : rq_byte;
  assign req_beats_o = split ? split_beats : whole_beats;
  assign d_ready_o = d_ready;
endmodule

`default_nettype wire
